/**
 * Every view is reachable by mouse and keyboard, shows its title and an empty state that says
 * what will appear and links to the action that fills it; the status bar names the backend and
 * the workspace; the theme follows the OS. Screenshots of each view go to test-results/screenshots.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, launchBrowser, screenshot, watchPage } from './browser.js';
import { startBrowserMode, type BrowserMode } from './server.js';

interface ViewCase {
  id: string;
  title: string;
  /** Text of the view's empty state (or of its main content when it has no empty state). */
  text: string;
  /** The empty state's primary action, when it is a link to another view. */
  action?: { name: string; target: string };
}

const VIEWS: ViewCase[] = [
  { id: 'home', title: 'Workspace', text: 'Getting started' },
  { id: 'import', title: 'Import', text: 'Supported formats' },
  {
    id: 'conversations',
    title: 'Conversations',
    text: 'No conversations yet',
    action: { name: 'Import a dataset', target: 'import' },
  },
  {
    id: 'pairs',
    title: 'DSAT pairs',
    text: 'No DSAT pairs yet',
    action: { name: 'Import a dataset', target: 'import' },
  },
  { id: 'models', title: 'Models', text: 'No models yet' },
  {
    id: 'runs',
    title: 'Runs',
    text: 'A run needs a dataset and a model',
    action: { name: 'Import a dataset', target: 'import' },
  },
  { id: 'compare', title: 'Compare', text: 'Nothing to compare yet', action: { name: 'Go to Runs', target: 'runs' } },
  { id: 'reports', title: 'Reports', text: 'No reports yet', action: { name: 'Go to Compare', target: 'compare' } },
  { id: 'settings', title: 'Settings', text: 'Appearance' },
];

describe('views', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let server: BrowserMode;
  let problems: string[];

  const heading = (): Promise<string | null> => page.locator('h1').textContent();
  const hash = (): Promise<string> => page.evaluate('location.hash') as Promise<string>;
  const sidebarLink = (title: string) =>
    page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: title, exact: true });

  /** Waits until the start-up requests have answered, so a reload aborts none of them. */
  async function waitForStartup(): Promise<void> {
    await page.getByTestId('workspace-path').waitFor();
    await page.locator('[data-testid="status-backend"] strong').waitFor();
  }

  async function expectView(view: ViewCase): Promise<void> {
    await expect.poll(heading).toBe(view.title);
    expect(await hash()).toBe(`#/${view.id}`);
    await page.locator('main').getByText(view.text, { exact: false }).first().waitFor({ state: 'visible' });
    expect(await sidebarLink(view.title).getAttribute('aria-current')).toBe('page');
  }

  beforeAll(async () => {
    // A server of its own: this file checks the empty states, which other files fill.
    server = await startBrowserMode();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    page = await context.newPage();
    problems = watchPage(page);
    await page.goto(server.url);
    await waitForStartup();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('removes the token from the address bar and keeps working after a reload', async () => {
    expect(page.url()).not.toContain('token=');
    await page.reload();
    await expect.poll(heading).toBe('Workspace');
    await waitForStartup();
  });

  it('shows the backend and the workspace in the status bar', async () => {
    const backend = (await callApi('backend:info', {}, server)) as {
      ok: true;
      value: { name: string; attempts: { name: string; chosen: boolean }[] };
    };
    expect(backend.ok).toBe(true);
    // Without tfjs-node installed (as here), the engine falls back to wasm; the status bar says which.
    const chosen = backend.value.attempts.filter((attempt) => attempt.chosen).map((attempt) => attempt.name);
    expect(chosen).toEqual([backend.value.name]);
    const status = page.getByTestId('status-backend');
    await expect.poll(() => status.textContent()).toContain(backend.value.name);
    await expect.poll(() => page.getByTestId('status-workspace').textContent()).toContain(server.workspaceDir);
    // The tooltip explains why better backends were not taken.
    await status.hover();
    const tooltip = page.getByRole('tooltip');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.textContent()).toContain(backend.value.name);
    for (const attempt of backend.value.attempts.filter((candidate) => !candidate.chosen)) {
      expect(await tooltip.textContent()).toContain(attempt.name);
    }
    await screenshot(page, 'backend-tooltip');
    await page.mouse.move(640, 300);
  });

  it('reaches every view from the sidebar and shows its empty state', async () => {
    for (const view of VIEWS) {
      await sidebarLink(view.title).click();
      await expectView(view);
      await screenshot(page, view.id);
    }
  });

  it('follows each empty state action to the view that fills it', async () => {
    for (const view of VIEWS.filter((candidate) => candidate.action)) {
      await sidebarLink(view.title).click();
      await expectView(view);
      await page.locator('main').getByRole('link', { name: view.action!.name, exact: true }).click();
      await expect.poll(hash).toBe(`#/${view.action!.target}`);
    }
  });

  it('switches views with Ctrl+1..8 and supports back and forward', async () => {
    for (const [index, view] of VIEWS.slice(0, 8).entries()) {
      await page.keyboard.press(`Control+${index + 1}`);
      await expectView(view);
    }
    await page.goBack();
    await expect.poll(heading).toBe('Compare');
    await page.goForward();
    await expect.poll(heading).toBe('Reports');
    await page.keyboard.press('Control+,');
    await expectView(VIEWS[8]!);
  });

  it('moves through the sidebar with the arrow keys and opens a view with Enter', async () => {
    await page.keyboard.press('Control+1');
    await expectView(VIEWS[0]!);
    const current = sidebarLink('Workspace');
    await current.focus();
    // Roving tabindex: only one link in the list is a tab stop.
    const tabStops = await page.locator('nav[aria-label="Views"] a[tabindex="0"]').count();
    expect(tabStops).toBe(1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate('document.activeElement.textContent')).toContain('Conversations');
    await screenshot(page, 'keyboard-focus');
    await page.keyboard.press('Enter');
    await expectView(VIEWS[2]!);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await expectView(VIEWS[8]!);
  });

  it('offers a skip link that moves focus to the content', async () => {
    // The skip link is the first tab stop of a freshly loaded page.
    await page.keyboard.press('Control+1');
    await page.reload();
    await expect.poll(heading).toBe('Workspace');
    await waitForStartup();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await page.evaluate('document.activeElement.textContent')).toBe(await skip.textContent());
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    expect(await hash()).toBe('#/home');
  });

  it('opens the jobs panel with Ctrl+J and closes it with Escape', async () => {
    const panel = page.locator('#jobs-panel');
    await page.keyboard.press('Control+j');
    await panel.waitFor({ state: 'visible' });
    expect(await page.getByTestId('status-jobs').getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'jobs-panel');
    // Ctrl+J moved focus into the panel; Escape closes it and gives focus back.
    expect(await page.evaluate("document.activeElement.closest('#jobs-panel') !== null")).toBe(true);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement === document.body')).toBe(false);
    await page.getByTestId('status-jobs').click();
    await panel.waitFor({ state: 'visible' });
    await page.getByTestId('status-jobs').click();
    await panel.waitFor({ state: 'detached' });
  });

  it('follows the OS colour scheme (dark) in every view', async () => {
    const background = (): Promise<string> =>
      page.evaluate('getComputedStyle(document.body).backgroundColor') as Promise<string>;
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(background).not.toBe(light);
    const [red, green, blue] = (await background()).match(/\d+/g)!.map(Number);
    expect(red! + green! + blue!).toBeLessThan(3 * 64);
    for (const view of VIEWS) {
      await sidebarLink(view.title).click();
      await expectView(view);
      await screenshot(page, `${view.id}-dark`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('pins the theme from Settings over the OS preference', async () => {
    const isDark = async (): Promise<boolean> => {
      const color = (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
      const [red, green, blue] = color.match(/\d+/g)!.map(Number);
      return red! + green! + blue! < 3 * 64;
    };
    await page.emulateMedia({ colorScheme: 'light' });
    await sidebarLink('Settings').click();
    await page.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(isDark).toBe(true);
    const saved = (await callApi('settings:get', {}, server)) as { ok: true; value: { theme: string } };
    expect(saved.value.theme).toBe('dark');
    await page.getByRole('radio', { name: 'Follow the system' }).check();
    await expect.poll(isDark).toBe(false);
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

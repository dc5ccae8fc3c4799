/**
 * Errors from the API are shown as a banner with the message and what to do next, never as a
 * blank screen; Retry recovers once the cause is gone. The failures are injected by routing
 * the page's API requests, since a healthy server does not fail on demand.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, screenshot } from './browser.js';

const CORRUPT = {
  ok: false,
  error: {
    code: 'catalog_corrupt',
    message: 'workbench.json was corrupt at line 3.',
    hint: 'The last good copy was restored; check the quarantined file.',
  },
};

describe('errors', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  }

  it('shows an error Result as a banner and recovers with Retry', async () => {
    await open();
    let failing = true;
    await page.route('**/api/dataset:list', (route) => (failing ? route.fulfill({ json: CORRUPT }) : route.fallback()));
    await page.goto(`${inject('serverUrl')}#/conversations`);
    const banner = page.locator('main').getByRole('alert');
    await banner.waitFor();
    const text = await banner.textContent();
    expect(text).toContain(CORRUPT.error.message);
    expect(text).toContain(CORRUPT.error.hint);
    expect(text).toContain('catalog_corrupt');
    // A list that failed to load is unknown, not empty: no "No conversations yet".
    expect(await page.locator('main').getByText('No conversations yet').count()).toBe(0);
    await screenshot(page, 'error-banner');

    failing = false;
    await banner.getByRole('button', { name: 'Retry' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.locator('main').getByText('No conversations yet').waitFor();
    await page.context().close();
  });

  it('says so when the server cannot be reached, in the view and in the status bar', async () => {
    await open();
    await page.route('**/api/backend:info', (route) => route.abort('connectionrefused'));
    await page.goto(inject('serverUrl'));
    const banner = page.locator('main').getByRole('alert');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('did not answer backend:info');
    await expect.poll(() => page.getByTestId('status-backend').textContent()).toContain('Backend unavailable');
    // The rest of the app still works.
    expect(await page.getByTestId('workspace-path').textContent()).toBe(inject('workspaceDir'));
    await page.context().close();
  });
});

/**
 * Jobs from the UI: a timed job shows its progress advance and can be cancelled; the gradient
 * self-test runs to success. Both are started with the buttons a user has.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, screenshot, watchPage } from './browser.js';

describe('jobs', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    problems = watchPage(page);
    await page.goto(inject('serverUrl'));
    await page.getByTestId('workspace-path').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows a timed job advancing, cancels it and shows it cancelled', async () => {
    await page.keyboard.press('Control+j');
    const panel = page.locator('#jobs-panel');
    await panel.waitFor({ state: 'visible' });
    await panel.getByTestId('start-sleep-job').click();

    const job = panel.locator('[data-testid="job"][data-kind="selftest.sleep"]').first();
    await job.waitFor();
    const counts = job.getByTestId('job-counts');
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 30_000 }).toBe('running');
    await expect.poll(() => page.getByTestId('status-jobs').textContent()).toContain('1 running job');

    // The done/total text must advance while the job runs: progress is live, not a final jump.
    const done = async (): Promise<number> => Number((await counts.textContent())?.split('/')[0]);
    await expect.poll(done, { timeout: 30_000 }).toBeGreaterThan(0);
    const seen = await done();
    await expect.poll(done, { timeout: 30_000 }).toBeGreaterThan(seen);
    expect(await counts.textContent()).toMatch(/^\d+ \/ 40$/);
    const progressbar = job.getByRole('progressbar');
    expect(Number(await progressbar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    await screenshot(page, 'jobs-running');

    await job.getByRole('button', { name: /^Cancel/ }).click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 30_000 }).toBe('cancelled');
    expect(await job.getByTestId('job-status').textContent()).toBe('cancelled');
    expect(await job.getByRole('button', { name: /^Cancel/ }).count()).toBe(0);
    await expect.poll(() => page.getByTestId('status-jobs').textContent()).toContain('No running jobs');
  });

  it('runs the gradient self-test from the workspace view to success', async () => {
    await page.keyboard.press('Control+1');
    await page.locator('main').getByTestId('start-gradient-selftest').click();
    const panel = page.locator('#jobs-panel');
    await panel.waitFor({ state: 'visible' });
    const job = panel.locator('[data-testid="job"][data-kind="selftest.gradients"]').first();
    await job.waitFor();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 110_000, interval: 500 }).toBe('succeeded');
    expect(await job.getByTestId('job-status').textContent()).toBe('succeeded');
    expect(await job.getByTestId('job-percent').textContent()).toBe('100 %');
    await screenshot(page, 'jobs-finished');
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

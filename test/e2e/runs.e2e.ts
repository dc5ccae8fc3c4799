/**
 * The Runs view (issue 6) in browser mode, on a server and workspace of its own: a small chat log
 * is imported, mined and frozen as a pair set, and a tiny policy with its own tokenizer is trained
 * (all through the API, as the CLI would). Then, in the page, a DRIFT run is configured in the New
 * run form (one iteration, a few new tokens), launched, its charts gain points as the job reports
 * steps, and Pause leaves it paused. Screenshots: test-results/screenshots/runs-*.png.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './browser.js';
import { arithmeticChats, freezePairSet, openView, runJob, sftLog, wildchatLog } from './fixtures.js';
import { startBrowserMode, type BrowserMode } from './server.js';

describe('runs view', () => {
  let server: BrowserMode;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;
  let modelId: string;

  const main = (): Locator => page.locator('main');
  const setting = (path: string): Locator =>
    main().locator(`[data-testid="run-field"][data-path="${path}"]`).locator('input, select');
  const points = async (chart: string): Promise<number> =>
    Number(await main().getByTestId(`run-chart-${chart}`).getAttribute('data-points'));

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-runs-e2e-'));
    const chats = arithmeticChats(12);
    await writeFile(join(folder, 'wildchat.jsonl'), wildchatLog(chats, 'e2e-runs'));
    await writeFile(join(folder, 'sft.jsonl'), sftLog(chats));
    server = await startBrowserMode();

    const { accepted } = await freezePairSet(server, {
      file: join(folder, 'wildchat.jsonl'),
      dataset: 'E2E runs',
      pairSet: 'e2e-runs',
    });
    expect(accepted).toBeGreaterThanOrEqual(10);
    const trained = await runJob<{ modelId: string }>(server, 'model.train-sft', {
      preset: 'tiny',
      files: [join(folder, 'sft.jsonl')],
      outputName: 'runs policy',
      hyperparameters: { maxSteps: 2 },
    });
    modelId = trained.modelId;

    browser = await launchBrowser();
    ({ page, problems } = await openView(browser, server, { shortcut: 6, view: 'runs' }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('configures a DRIFT run with the paper’s defaults shown, and launches it', async () => {
    await main().getByTestId('run-new').click();
    const form = main().getByTestId('run-form');
    await form.waitFor();
    // The defaults and their sources are on screen.
    const beta = form.locator('[data-testid="run-field"][data-path="hyperparameters.beta"]');
    expect(await beta.textContent()).toMatch(/default 0\.1 · paper/);
    expect(await form.locator('[data-path="hyperparameters.learningRate"]').textContent()).toContain(
      'small-model choice',
    );
    await expect.poll(() => form.getByTestId('run-base-model').inputValue()).toBe(modelId);
    await expect.poll(() => form.getByTestId('run-pair-set').inputValue()).toBe('e2e-runs@v1');
    await form.getByRole('radio', { name: /DRIFT/ }).check();

    await form.getByTestId('run-name').fill('e2e drift');
    await setting('iterations').fill('1');
    await setting('testSize').fill('2');
    // Many short seed epochs of one pair a step: enough steps to watch the charts grow and pause.
    await setting('hyperparameters.seedEpochs').fill('100');
    await setting('hyperparameters.batchSize').fill('1');
    await setting('hyperparameters.maxLength').fill('64');
    await setting('hyperparameters.maxPromptLength').fill('48');
    await setting('generation.maxNewTokens').fill('4');
    await setting('generation.batchSize').fill('4');
    expect(await form.getByTestId('run-form-problems').count()).toBe(0);
    await screenshot(page, 'runs-form');

    await form.getByTestId('run-launch').click();
    const detail = main().getByTestId('run-detail');
    await detail.waitFor({ timeout: 30_000 });
    expect(await detail.locator('h2').textContent()).toBe('e2e drift');
    await expect.poll(() => main().getByTestId('run-row').count()).toBe(1);
    // The stored config reads back what the form set.
    const config = main().getByTestId('run-config');
    expect(await config.locator('[data-key="generation.maxNewTokens"] td').first().textContent()).toBe('4');
    expect(await config.locator('[data-key="hyperparameters.beta"] td').first().textContent()).toBe('0.1');
  });

  it('draws the run’s metrics as they arrive', async () => {
    await expect.poll(() => points('loss'), { timeout: 60_000, interval: 250 }).toBeGreaterThan(0);
    const first = await points('loss');
    await expect.poll(() => points('loss'), { timeout: 30_000, interval: 250 }).toBeGreaterThan(first);
    expect(await points('rewards')).toBeGreaterThan(0);
    expect(await points('weights')).toBeGreaterThan(0);
    expect(Number(await main().getByTestId('run-chart-histogram').getAttribute('data-total'))).toBeGreaterThan(0);
    expect(await main().getByTestId('run-position').textContent()).toMatch(/step \d+/);
    expect(await main().getByTestId('run-job').getAttribute('data-status')).toBe('running');
    // The seed pairs the warm start trains on are listed with their last user turn.
    await expect.poll(() => main().getByTestId('run-pair').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await main().getByTestId('run-pairs').textContent()).toMatch(/What is \d+ \+ \d+\?/);
    await screenshot(page, 'runs-live');
  });

  it('pauses the run', async () => {
    await main().getByTestId('run-pause').click();
    await expect
      .poll(() => main().getByTestId('run-status').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('paused');
    await main().getByTestId('run-resume').waitFor();
    await expect
      .poll(() => main().getByTestId('run-row').locator('[data-status]').getAttribute('data-status'), {
        timeout: 10_000,
      })
      .toBe('paused');
    // Nothing more is drawn once it stopped (after the rows written before the pause are in).
    await page.waitForTimeout(1000);
    const stopped = await points('loss');
    await page.waitForTimeout(1500);
    expect(await points('loss')).toBe(stopped);
    await screenshot(page, 'runs-paused');
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

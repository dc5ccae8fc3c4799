/**
 * The Compare view (issue 7) in browser mode, on a server and workspace of its own: a small chat
 * log is imported, mined and frozen as a pair set, two tiny policies are trained, and a
 * Bradley–Terry reward model is trained on the set's seed pairs (all through the API, as the CLI
 * would). Then, in the page, both policies are evaluated with the reward model on the set's
 * held-out contexts, the job's progress shows, the tables and charts appear, clicking a point of
 * the 2-D map and a win-rate bar opens the responses behind them, and the evaluation reopens from
 * the list after a reload. Screenshots: test-results/screenshots/compare-*.png.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from './browser.js';
import { arithmeticChats, freezePairSet, openView, runJob, serverApi, sftLog, wildchatLog } from './fixtures.js';
import { startBrowserMode, type BrowserMode } from './server.js';

describe('compare view', () => {
  let server: BrowserMode;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;
  const policies: string[] = [];

  const api = <T>(channel: string, request: unknown = {}) => serverApi(server)<T>(channel, request);
  const main = (): Locator => page.locator('main');

  /** Clicks the chart's mark chosen by `which` among those its canvas lists in data-marks. */
  async function clickMark(chart: string, which: (marks: Mark[]) => Mark | undefined): Promise<void> {
    const canvas = main().getByTestId(chart).locator('canvas');
    await expect.poll(() => canvas.getAttribute('data-marks')).toBeTruthy();
    const marks = JSON.parse((await canvas.getAttribute('data-marks')) ?? '[]') as Mark[];
    const mark = which(marks);
    expect(mark, `no mark to click in ${chart}`).toBeDefined();
    await canvas.click({ position: { x: mark!.x, y: mark!.y } });
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-compare-e2e-'));
    const chats = arithmeticChats(12);
    await writeFile(join(folder, 'wildchat.jsonl'), wildchatLog(chats, 'e2e-compare'));
    await writeFile(join(folder, 'sft.jsonl'), sftLog(chats));
    server = await startBrowserMode();

    await freezePairSet(server, {
      file: join(folder, 'wildchat.jsonl'),
      dataset: 'E2E compare',
      pairSet: 'e2e-compare',
    });
    for (const [name, seed] of [
      ['policy a', 1],
      ['policy b', 2],
    ] as const) {
      const trained = await runJob<{ modelId: string }>(server, 'model.train-sft', {
        preset: 'tiny',
        files: [join(folder, 'sft.jsonl')],
        outputName: name,
        hyperparameters: { maxSteps: 2 },
        seed,
      });
      policies.push(trained.modelId);
    }
    await runJob(server, 'reward.train', {
      modelId: policies[0],
      pairSet: 'e2e-compare@v1',
      name: 'e2e judge',
      epochs: 1,
      batchSize: 4,
    });

    browser = await launchBrowser();
    ({ page, problems } = await openView(browser, server, {
      shortcut: 7,
      view: 'compare',
      viewport: { width: 1500, height: 1100 },
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('evaluates two policies with the reward model, with progress, and shows tables and charts', async () => {
    const setup = main().getByTestId('compare-setup');
    for (const id of policies) await setup.locator(`[data-testid="compare-model"][data-id="${id}"]`).check();
    expect(await setup.getByTestId('compare-checkpoints').locator('li').count()).toBe(2);
    await expect.poll(() => setup.getByTestId('compare-pair-set').inputValue()).toBe('e2e-compare@v1');
    await setup.getByTestId('compare-reward').selectOption({ label: 'Reward model e2e judge' });
    await setup.getByTestId('compare-samples').fill('2');
    await setup.getByTestId('compare-tokens').fill('8');
    await setup.getByTestId('compare-launch').click();

    await setup.getByTestId('compare-progress').waitFor();
    const result = main().getByTestId('compare-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await setup.getByTestId('compare-progress').getAttribute('data-status')).toBe('succeeded');
    expect(await result.getByTestId('compare-table').locator('tbody tr').count()).toBe(2);
    expect(await result.getByTestId('compare-winrates').locator('tbody tr').count()).toBe(1);
    for (const chart of ['histogram', 'diversity', 'map', 'winrate']) {
      await result.getByTestId(`compare-chart-${chart}`).locator('canvas').waitFor();
    }
    await expect.poll(() => main().getByTestId('compare-evaluation').count()).toBe(1);
    await screenshot(page, 'compare-result');
  });

  it('opens the response behind a point of the map', async () => {
    await clickMark('compare-chart-map', (marks) => marks[marks.length - 1]);
    const panel = page.getByTestId('compare-responses');
    await panel.waitFor();
    const title = (await panel.locator('h2').textContent()) ?? '';
    const match = /prompt (\d+), sample (\d+)/.exec(title);
    expect(match, title).not.toBeNull();
    expect(await panel.getByTestId('compare-response').count()).toBe(1);
    // The text shown is the stored response of that checkpoint, prompt and sample.
    const [id] = (await api<{ id: string }[]>('eval:list')).value.map((meta) => meta.id);
    const label = title.split(':')[0];
    const checkpoint = label === 'policy a' ? 0 : 1;
    const stored = await api<{ rows: { text: string }[] }>('eval:responses', {
      id,
      checkpoint,
      prompt: Number(match![1]) - 1,
      sample: Number(match![2]) - 1,
    });
    expect(await panel.getByTestId('compare-response-text').textContent()).toBe(stored.value.rows[0]?.text);
    await screenshot(page, 'compare-map-response');
  });

  it('opens the comparisons behind a win-rate bar', async () => {
    await page.getByRole('button', { name: 'Close the responses' }).click();
    await clickMark('compare-chart-winrate', (marks) => marks.find((mark) => mark.dataset === 0));
    const panel = page.getByTestId('compare-responses');
    await panel.waitFor();
    expect(await panel.locator('h2').textContent()).toBe('policy b against policy a');
    // Every held-out prompt's two samples, each beside the opponent's answer.
    await expect.poll(() => panel.getByTestId('compare-response').count()).toBeGreaterThan(0);
    expect(await panel.locator('.opponent').count()).toBe(await panel.getByTestId('compare-response').count());
    await screenshot(page, 'compare-winrate-responses');
  });

  it('reopens an earlier evaluation from the list', async () => {
    await page.reload();
    await page.locator('main[data-view="compare"]').waitFor();
    await main().getByTestId('compare-evaluation').first().click();
    await main().getByTestId('compare-result').waitFor();
    expect(await main().getByTestId('compare-table').locator('tbody tr').count()).toBe(2);
  });

  it('judges simulated tasks with the gold checker and shows success by task group', async () => {
    const setup = main().getByTestId('compare-setup');
    for (const id of policies) await setup.locator(`[data-testid="compare-model"][data-id="${id}"]`).check();
    await setup.getByTestId('compare-prompt-kind').selectOption('sim');
    await setup.getByLabel('Most prompts').fill('12');
    await setup.getByTestId('compare-reward').selectOption('gold');
    await setup.getByTestId('compare-samples').fill('1');
    await setup.getByTestId('compare-tokens').fill('8');
    await setup.getByTestId('compare-launch').click();

    const groups = main().getByTestId('compare-groups');
    await groups.waitFor({ timeout: 60_000 });
    const id = await main().getByTestId('compare-result').getAttribute('data-id');
    const stored = await api<{ result: { checkpoints: { gold: { byGroup: GoldGroup[] } | null }[] } }>('eval:get', {
      id,
    });
    const [first, second] = stored.value.result.checkpoints.map((checkpoint) => checkpoint.gold?.byGroup ?? []);
    expect(first!.length).toBeGreaterThan(1);
    expect(first!.reduce((sum, entry) => sum + entry.samples, 0)).toBe(12);
    // A row per group: its name, its samples, and each checkpoint's share of successes.
    const rows = groups.locator('tbody tr');
    expect(await rows.count()).toBe(first!.length);
    const percent = (entry: GoldGroup) => `${((entry.successes / entry.samples) * 100).toFixed(1)}%`;
    for (const [index, entry] of first!.entries()) {
      const cells = await rows.nth(index).locator('td').allTextContents();
      expect(cells.map((cell) => cell.trim())).toEqual([
        entry.group,
        String(entry.samples),
        percent(entry),
        percent(second!.find((other) => other.group === entry.group)!),
      ]);
    }
    await screenshot(page, 'compare-gold-groups');
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

interface GoldGroup {
  group: string;
  samples: number;
  successes: number;
}

interface Mark {
  dataset: number;
  index: number;
  x: number;
  y: number;
}

/**
 * Scale-out in the Runs view (issue 10) in browser mode, on a server and workspace of its own: a
 * small chat log is imported, mined and frozen as a pair set and a tiny model fixture imported (all
 * through the API). A bundle is exported through the API and given what drift_driver.py leaves on a
 * cluster after the seed step (the fixture's weights, a trainer_state.json and drift_done.json).
 * In the page, "Import cluster run" reads it back and selects the imported run; that run's "Export
 * for a GPU cluster (TRL)" writes a new bundle to a typed folder and shows the commands to run.
 * Screenshots: test-results/screenshots/runs-export-*.png.
 */
import { access, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, launchBrowser, screenshot, watchPage } from './browser.js';
import { startBrowserMode, type BrowserMode } from './server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tinyLlama = join(root, 'test', 'fixtures', 'models', 'ferrl-tiny-llama');

interface Ok<T> {
  ok: true;
  value: T;
}

/** Chats with a wrong answer, the user's correction, a right answer and thanks: one DSAT pair each. */
function wildchatLines(): string {
  const lines: string[] = [];
  for (let index = 0; index < 8; index++) {
    const [left, right] = [index + 2, index + 5];
    const turns = [
      `What is ${left} + ${right}?`,
      `It is ${left + right + 1}.`,
      `That's wrong, the answer is ${left + right}.`,
      `You are right, ${left} + ${right} = ${left + right}.`,
      'thanks!',
    ];
    lines.push(
      JSON.stringify({
        conversation_hash: `e2e-export-${index}`,
        model: 'gpt-4-0314',
        language: 'English',
        toxic: false,
        conversation: turns.map((content, turn) => ({ role: turn % 2 === 0 ? 'user' : 'assistant', content })),
      }),
    );
  }
  return lines.join('\n');
}

/** What drift_driver.py leaves in outputs/iter-0/ when the seed step finished: an HF folder and TRL's logs. */
async function simulateSeedStep(bundle: string): Promise<void> {
  const output = join(bundle, 'outputs', 'iter-0');
  await mkdir(output, { recursive: true });
  for (const file of ['config.json', 'model.safetensors']) await cp(join(tinyLlama, file), join(output, file));
  await writeFile(
    join(output, 'trainer_state.json'),
    JSON.stringify({
      global_step: 2,
      log_history: [
        { loss: 0.69, 'rewards/chosen': 0.01, 'rewards/rejected': 0, 'rewards/margins': 0.01, step: 1, epoch: 0.5 },
        { loss: 0.6, 'rewards/chosen': 0.03, 'rewards/rejected': -0.01, 'rewards/margins': 0.04, step: 2, epoch: 1 },
        { train_runtime: 4, step: 2 },
      ],
    }),
  );
  await writeFile(
    join(output, 'drift_done.json'),
    JSON.stringify({ iteration: 0, globalStep: 2, finishedAt: new Date().toISOString(), versions: { trl: '1.9.0' } }),
  );
}

describe('runs view: export for a GPU cluster and import back', () => {
  let server: BrowserMode;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;

  const api = <T>(channel: string, request: unknown = {}) => callApi(channel, request, server) as Promise<Ok<T>>;
  const main = (): Locator => page.locator('main');

  /** Starts a job and waits for it to succeed; answers its result. */
  async function runJob<R>(kind: string, params: Record<string, unknown>): Promise<R> {
    const started = await api<{ id: string }>('job:start', { kind, params });
    expect(started.ok, JSON.stringify(started)).toBe(true);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await api<{ status: string; result: R; error?: unknown }>('job:get', { id: started.value.id });
      if (!['queued', 'running'].includes(job.value.status)) {
        expect(job.value.status, JSON.stringify(job.value.error)).toBe('succeeded');
        return job.value.result;
      }
      if (Date.now() > deadline) throw new Error(`${kind} did not finish within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-export-e2e-'));
    await writeFile(join(folder, 'wildchat.jsonl'), `${wildchatLines()}\n`);
    server = await startBrowserMode();

    const { datasetId } = await runJob<{ datasetId: string }>('dataset.import', {
      paths: [join(folder, 'wildchat.jsonl')],
      name: 'E2E export',
    });
    await runJob('signals.mine', { datasetId });
    await api('pair:decide', { datasetId, filter: {}, status: 'accepted' });
    const frozen = await api<{ id: string }>('pairset:freeze', {
      datasetId,
      name: 'e2e-export',
      filter: { statuses: ['accepted'] },
    });
    expect(frozen.value.id).toBe('e2e-export@v1');
    await runJob('model.import', { path: tinyLlama });
    // The cluster's bundle: the seed warm start only (iterations 0), finished.
    await runJob('run.export', {
      config: {
        name: 'e2e cluster',
        method: 'drift',
        baseModelId: 'ferrl-tiny-llama',
        pairSet: 'e2e-export@v1',
        iterations: 0,
      },
      outDir: join(folder, 'cluster-bundle'),
    });
    await simulateSeedStep(join(folder, 'cluster-bundle'));

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    page = await context.newPage();
    problems = watchPage(page);
    await page.goto(server.url);
    await page.getByTestId('workspace-path').waitFor();
    await page.keyboard.press('Control+6');
    await page.locator('main[data-view="runs"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('imports a finished cluster bundle as a run, with its checkpoint as a model, and selects it', async () => {
    await main().getByTestId('run-import-open').click();
    const panel = main().getByTestId('run-import');
    await panel.getByTestId('run-import-path').fill(join(folder, 'cluster-bundle'));
    await panel.getByTestId('run-import-start').click();
    const detail = main().getByTestId('run-detail');
    await detail.waitFor({ timeout: 60_000 });
    expect(await detail.getAttribute('data-run-id')).toBe('e2e-cluster-trl');
    expect(await detail.locator('h2').textContent()).toBe('e2e cluster (TRL)');
    await expect.poll(() => main().getByTestId('run-row').count()).toBe(1);
    expect(await main().getByTestId('run-row').getAttribute('data-run-id')).toBe('e2e-cluster-trl');
    expect(await panel.getByTestId('run-import-result').textContent()).toMatch(/1 iteration, 2 metric rows, 1 model\./);
    const models = await api<{ id: string }[]>('model:list');
    expect(models.value.map((model) => model.id)).toContain('e2e-cluster-trl-seed');
    await screenshot(page, 'runs-export-imported');
  });

  it('exports the selected run to a typed folder and shows the commands to run on the cluster', async () => {
    await main().getByTestId('run-export-open').click();
    const panel = main().getByTestId('run-export');
    const target = join(folder, 'for-the-cluster');
    await panel.getByTestId('run-export-path').fill(target);
    await panel.getByTestId('run-export-accelerate').selectOption('fsdp');
    await panel.getByTestId('run-export-start').click();
    const result = panel.getByTestId('run-export-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await panel.getByTestId('run-export-folder').textContent()).toBe(target);
    const commands = (await panel.getByTestId('run-export-commands').textContent()) ?? '';
    expect(commands).toContain('python drift_driver.py --dry-run');
    expect(await panel.getByTestId('run-export-files').textContent()).toContain('data/dsat_data.jsonl');

    await access(join(target, 'drift_driver.py'));
    const dsat = (await readFile(join(target, 'data', 'dsat_data.jsonl'), 'utf8')).trim().split('\n');
    expect(dsat.length).toBeGreaterThanOrEqual(8);
    // The bundle names the run, and the chosen accelerate config is the driver's default.
    const manifest = JSON.parse(await readFile(join(target, 'bundle.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ runId: 'e2e-cluster-trl', accelerate: 'fsdp' });

    await panel.getByTestId('run-export-copy').click();
    await expect.poll(() => panel.getByTestId('run-export-copy').textContent()).toContain('Copied');
    expect(await (page.evaluate('navigator.clipboard.readText()') as Promise<string>)).toBe(commands);
    await screenshot(page, 'runs-export-result');
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

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
import { launchBrowser, screenshot } from './browser.js';
import { arithmeticChats, freezePairSet, openView, runJob, serverApi, wildchatLog } from './fixtures.js';
import { startBrowserMode, type BrowserMode } from './server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tinyLlama = join(root, 'test', 'fixtures', 'models', 'ferrl-tiny-llama');

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

  const api = <T>(channel: string, request: unknown = {}) => serverApi(server)<T>(channel, request);
  const main = (): Locator => page.locator('main');

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-export-e2e-'));
    await writeFile(join(folder, 'wildchat.jsonl'), wildchatLog(arithmeticChats(8), 'e2e-export'));
    server = await startBrowserMode();

    await freezePairSet(server, {
      file: join(folder, 'wildchat.jsonl'),
      dataset: 'E2E export',
      pairSet: 'e2e-export',
    });
    await runJob(server, 'model.import', { path: tinyLlama });
    // The cluster's bundle: the seed warm start only (iterations 0), finished.
    await runJob(server, 'run.export', {
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
    ({ page, problems } = await openView(browser, server, {
      shortcut: 6,
      view: 'runs',
      permissions: ['clipboard-read', 'clipboard-write'],
    }));
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

/**
 * The Reports view (issue 8) in browser mode, on a workspace prepared before the server opens it:
 * two finished DRIFT runs on disk (the report tests' fixtures, whose texts carry markup that must
 * stay text) and their catalog entries. In the page: a comparison report is built (HTML, Markdown,
 * JSON), listed, previewed in a sandboxed frame, exported to a typed folder, exported again with
 * "Replace files", and given a PDF printed by the server's Chromium.
 * Screenshots: test-results/screenshots/reports-*.png.
 */
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEntry } from '../../src-main/api/schemas.js';
import { RUN_FORMAT_VERSION, RunFile } from '../../src-main/engine/runs/files.js';
import { writeDataSources, writeRun } from '../engine/report/fixtures.js';
import { launchBrowser, screenshot } from './browser.js';
import { openView } from './fixtures.js';
import { startBrowserMode, type BrowserMode } from './server.js';

function runEntry(id: string, name: string): RunEntry {
  return {
    id,
    name,
    method: 'drift',
    status: 'succeeded',
    createdAt: '2025-01-01T00:00:00.000Z',
    baseModelId: 'base-model',
    datasetId: 'logs',
    pairSet: 'demo@v1',
    iterations: 2,
    iterationsDone: 2,
    jobId: null,
    updatedAt: '2025-01-01T00:10:00.000Z',
  };
}

/** A fixture run, with the run file fields the runs engine adds to its detail (engine/runs/files.ts). */
async function writeRunFolder(workspaceDir: string, id: string, options: { name: string; beta?: number }) {
  const detail = await writeRun(workspaceDir, id, options);
  const run: RunFile = {
    ...detail,
    formatVersion: RUN_FORMAT_VERSION,
    kind: 'preference',
    datasetId: 'logs',
    pairSetChecksum: 'a'.repeat(64),
  };
  await writeFile(join(workspaceDir, 'runs', id, 'run.json'), JSON.stringify(RunFile.parse(run)));
}

/** Two finished runs on disk and in the catalog, and the pair set and dataset reports they cite. */
async function prepare(workspaceDir: string): Promise<void> {
  await writeRunFolder(workspaceDir, 'run-a', { name: 'E2E run A' });
  await writeRunFolder(workspaceDir, 'run-b', { name: 'E2E run B', beta: 0.3 });
  await writeDataSources(workspaceDir);
  await writeFile(
    join(workspaceDir, 'workbench.json'),
    JSON.stringify({ schemaVersion: 1, runs: [runEntry('run-a', 'E2E run A'), runEntry('run-b', 'E2E run B')] }),
  );
}

describe('reports view', () => {
  let server: BrowserMode;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let exportDir: string;

  const main = (): Locator => page.locator('main');

  beforeAll(async () => {
    exportDir = await mkdtemp(join(tmpdir(), 'drift-wb-reports-e2e-'));
    server = await startBrowserMode({ prepare });
    browser = await launchBrowser();
    ({ page, problems } = await openView(browser, server, { shortcut: 8, view: 'reports' }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  it('builds a comparison of two runs and previews it in a sandboxed frame', async () => {
    await main().getByTestId('report-empty').waitFor();
    const form = main().getByTestId('report-build');
    await expect.poll(() => form.getByTestId('report-run').count()).toBe(2);
    await form.locator('[data-testid="report-run"][data-id="run-a"]').check();
    await form.locator('[data-testid="report-run"][data-id="run-b"]').check();
    await form.getByTestId('report-title').fill('E2E comparison');
    await screenshot(page, 'reports-form');
    await form.getByTestId('report-launch').click();

    await expect
      .poll(() => form.getByTestId('report-progress').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('succeeded');
    const row = main().getByTestId('report-row');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('E2E comparison');
    expect(await row.textContent()).toContain('E2E run A, E2E run B');
    expect(await row.getByTestId('report-formats').textContent()).toBe('html, md, json');

    // The new report opens by itself; the frame shows the report, whose hostile texts stay text.
    const preview = main().getByTestId('report-preview');
    await preview.waitFor();
    const frameElement = preview.getByTestId('report-frame');
    expect(await frameElement.getAttribute('sandbox')).toBe('');
    const frame = page.frameLocator('[data-testid="report-frame"]');
    await expect.poll(() => frame.locator('h1').first().textContent()).toContain('E2E comparison');
    expect(await frame.locator('script').count()).toBe(0);
    expect(await frame.locator('body').textContent()).toContain('<script>window.__pwned = 1</script>');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await preview.getByTestId('report-files').textContent()).toContain('report.json');
    await screenshot(page, 'reports-preview');
  });

  it('exports to a typed folder, and replaces files there only after a confirmation', async () => {
    const preview = main().getByTestId('report-preview');
    const target = join(exportDir, 'weekly');
    await preview.getByTestId('report-export-path').fill(target);
    await preview.getByTestId('report-export').click();
    const exported = main().getByTestId('report-exported');
    await exported.waitFor();
    expect(await exported.textContent()).toContain(join(target, 'report.html'));
    for (const file of ['report.html', 'report.md', 'report.json']) await access(join(target, file));
    expect((await readdir(join(target, 'charts'))).length).toBeGreaterThan(0);
    expect(await readFile(join(target, 'report.html'), 'utf8')).toContain('E2E comparison');

    // The same folder again: the files are there, so the view asks before replacing them.
    await writeFile(join(target, 'report.md'), 'changed by hand\n');
    await preview.getByTestId('report-export').click();
    const confirm = main().getByTestId('report-replace');
    await confirm.waitFor();
    expect(await confirm.textContent()).toMatch(/already holds \d+ files of this report:.*report\.html/);
    expect(await readFile(join(target, 'report.md'), 'utf8')).toBe('changed by hand\n');
    await screenshot(page, 'reports-replace');
    await confirm.getByTestId('report-replace-confirm').click();
    await exported.waitFor();
    expect(await confirm.count()).toBe(0);
    expect(await readFile(join(target, 'report.md'), 'utf8')).toContain('E2E comparison');
  });

  it('adds a PDF printed by the server', async () => {
    const preview = main().getByTestId('report-preview');
    await preview.getByTestId('report-print').click();
    await expect
      .poll(() => main().getByTestId('report-row').getByTestId('report-formats').textContent(), { timeout: 60_000 })
      .toBe('html, pdf, md, json');
    await expect.poll(() => preview.getByTestId('report-files').textContent()).toContain('report.pdf');
    const id = await main().getByTestId('report-row').getAttribute('data-id');
    const pdf = await readFile(join(server.workspaceDir, 'reports', id!, 'report.pdf'));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('logged no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

/** `drift-wb report` as a user runs it: a run report in every format, a comparison, usage errors. */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFixtureWorkspace } from '../engine/report/fixtures.js';
import { onlyDocument, runCli } from './helpers.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

async function workspace(secondRun = false) {
  const created = await createFixtureWorkspace({ secondRun });
  folders.push(created.dir);
  return created;
}

interface ReportSummary {
  id: string;
  kind: string;
  formats: string[];
  folder: string;
  files: string[];
  outDir: string | null;
  warnings: string[];
}

describe('drift-wb report', () => {
  it(`builds a run report in every format${hasChromium ? '' : ' (no pdf: no Chromium)'} and copies it to --out`, async () => {
    const { dir, evaluationFile } = await workspace();
    const out = path.join(dir, 'out');
    const formats = hasChromium ? ['html,md', 'json', 'pdf'] : ['html,md', 'json'];
    const finished = await runCli([
      '--workspace',
      dir,
      '--json',
      'report',
      '--run',
      'run-a',
      '--evaluation',
      evaluationFile,
      ...formats.flatMap((format) => ['--format', format]),
      '--out',
      out,
    ]);
    expect(finished.stderr).not.toMatch(/error/i);
    expect(finished.code).toBe(0);
    const summary = onlyDocument<ReportSummary>(finished.stdout);
    expect(summary).toMatchObject({ kind: 'run', outDir: out, warnings: [] });
    expect(summary.formats).toEqual(hasChromium ? ['html', 'pdf', 'md', 'json'] : ['html', 'md', 'json']);
    expect(summary.folder).toBe(path.join(dir, 'reports', summary.id));
    // The same files in the workspace and in --out.
    const charts = (await readdir(path.join(out, 'charts'))).sort();
    expect(summary.files).toEqual(
      [...charts.map((chart) => `charts/${chart}`), ...summary.formats.map((format) => `report.${format}`)].sort(),
    );
    const markdown = await readFile(path.join(out, 'report.md'), 'utf8');
    for (const [, image] of markdown.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
      expect(existsSync(path.join(out, image!)), image).toBe(true);
    }
    const data = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as {
      evaluation: { checkpoints: { rewards: { mean: number } }[] };
    };
    expect(data.evaluation.checkpoints.map((checkpoint) => checkpoint.rewards.mean)).toEqual([0.3, 0.5, 0.7]);
    if (hasChromium) expect((await readFile(path.join(out, 'report.pdf'))).subarray(0, 5).toString()).toBe('%PDF-');

    // The report is in the workspace's catalog.
    const catalog = JSON.parse(await readFile(path.join(dir, 'workbench.json'), 'utf8')) as {
      reports: { id: string; runIds: string[] }[];
    };
    expect(catalog.reports).toEqual([expect.objectContaining({ id: summary.id, runIds: ['run-a'] })]);
  });

  it('compares runs and prints a human summary', async () => {
    const { dir } = await workspace(true);
    const finished = await runCli(['--workspace', dir, 'report', '--compare', 'run-a,run-b', '--format', 'html']);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toMatch(/^Built report compare-2-runs-\d{8}-\d{6}: Comparison: /);
    expect(finished.stdout).toContain('formats   html');
  });

  it('refuses bad arguments with usage errors and a missing run with not_found', async () => {
    const { dir } = await workspace();
    const single = await runCli(['--workspace', dir, '--json', 'report', '--compare', 'run-a']);
    expect(single.code).toBe(2);
    expect(onlyDocument(single.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    const format = await runCli(['--workspace', dir, 'report', '--run', 'run-a', '--format', 'html,docx']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('"docx"');
    const missing = await runCli(['--workspace', dir, '--json', 'report', '--run', 'nope']);
    expect(missing.code).toBe(1);
    expect(onlyDocument(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

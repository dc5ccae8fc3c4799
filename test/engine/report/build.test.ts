/**
 * Reports built from a tiny run folder on disk, in every format: the HTML is self-contained and
 * escapes user text, the Markdown references chart files that exist, the JSON holds the numbers,
 * the PDF comes from the printer callback. Missing or damaged files become warnings.
 */
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure, type Job } from '../../../src-main/api/index.js';
import { EngineEvents } from '../../../src-main/engine/events.js';
import { completeReportBuild } from '../../../src-main/engine/report/job.js';
import { colorOf } from '../../../src-main/engine/report/charts.js';
import { openWorkspace } from '../../../src-main/engine/workspace/index.js';
import {
  addReportPdf,
  buildReport,
  exportReport,
  listReports,
  reportFiles,
  REPORT_CSP,
  type ReportData,
} from '../../../src-main/engine/report/index.js';
import { createFixtureWorkspace, HOSTILE } from './fixtures.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

async function fixture(options: { secondRun?: boolean } = {}) {
  const workspace = await createFixtureWorkspace(options);
  folders.push(workspace.dir);
  return workspace;
}

/** A fake printer: the callback contract (html in, PDF bytes out) without a browser. */
const fakePdf = async (html: string) => new TextEncoder().encode(`%PDF-1.4\n% ${html.length} characters\n%%EOF\n`);

/** Markdown with every fenced code block removed (user text lives in those, verbatim). */
function outsideCodeBlocks(markdown: string): string {
  const lines = markdown.split('\n');
  const kept: string[] = [];
  let fence: string | null = null;
  for (const line of lines) {
    const match = /^(`{3,})/.exec(line);
    if (fence === null && match) fence = match[1]!;
    else if (fence !== null && line === fence) fence = null;
    else if (fence === null) kept.push(line);
  }
  expect(fence).toBeNull();
  return kept.join('\n');
}

describe('buildReport', () => {
  it('writes html, md (with charts), json and pdf for one run', async () => {
    const workspace = await fixture();
    const result = await buildReport({
      workspaceDir: workspace.dir,
      runIds: ['run-a'],
      formats: ['html', 'md', 'json', 'pdf'],
      evaluationFile: workspace.evaluationFile,
      printToPdf: fakePdf,
      id: 'report-1',
      now: new Date('2025-02-01T00:00:00Z'),
    });
    expect(result).toMatchObject({ id: 'report-1', kind: 'run', runIds: ['run-a'], folder: 'reports/report-1' });
    expect(result.formats).toEqual(['html', 'pdf', 'md', 'json']);
    expect(result.warnings).toEqual([]);
    const folder = path.join(workspace.dir, 'reports', 'report-1');
    const listed = (await reportFiles(workspace.dir, 'report-1')).map((file) => file.path);
    expect(listed).toEqual(result.files);
    expect(listed).toEqual(expect.arrayContaining(['report.html', 'report.md', 'report.json', 'report.pdf']));
    // No staging folder is left behind.
    expect((await readdir(path.join(workspace.dir, 'reports'))).filter((name) => name.startsWith('.'))).toEqual([]);

    const html = await readFile(path.join(folder, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    // Self-contained: no script, no external reference of any kind.
    expect(html).not.toMatch(/<script/i);
    // Every `<` of user text is escaped, so each match here is a real tag of the report.
    const tags = [...html.matchAll(/<[A-Za-z][^>]*>/g)].map((match) => match[0]);
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((tag) => /\s(src|srcset|action|formaction|data|on[a-z]+)=/i.test(tag))).toEqual([]);
    expect(
      tags.filter((tag) => /^<(link|iframe|object|embed|img|base|script|meta http-equiv="refresh")\b/i.test(tag)),
    ).toEqual([]);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!.startsWith('#'))).not.toContain(false);
    expect([...html.matchAll(/url\(([^)]*)\)/g)].map((match) => match[1])).toSatisfy((urls: string[]) =>
      urls.every((url) => /^#(clip|hatch)-[A-Za-z0-9_-]+$/.test(url)),
    );
    // Every chart is whole; the hostile text shows escaped.
    const svgOpen = html.match(/<svg\b/g)?.length ?? 0;
    expect(svgOpen).toBeGreaterThanOrEqual(12);
    expect(html.match(/<\/svg>/g)?.length).toBe(svgOpen);
    expect(html).toContain('&lt;/svg&gt;&lt;/pre&gt;&lt;/div&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect(html).not.toContain('\u0001');
    for (const section of [
      'Summary',
      'Data',
      'Configuration',
      'Training curves',
      'Evaluation',
      'Examples',
      'Environment',
      'Limitations',
    ]) {
      expect(html).toContain(`>${section}</h2>`);
    }

    const markdown = await readFile(path.join(folder, 'report.md'), 'utf8');
    const images = [...markdown.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]!);
    expect(images.length).toBe(svgOpen);
    for (const image of images) {
      expect(image).toMatch(/^charts\/[a-z0-9-]+\.svg$/);
      const svg = await readFile(path.join(folder, image), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<svg\b/g)).toHaveLength(1);
    }
    const prose = outsideCodeBlocks(markdown);
    expect(prose).not.toMatch(/<script|<\/svg>|<img/i);
    expect(markdown).toContain(HOSTILE.replace('\u0001', '\uFFFD'));
    // Gold success by task group: a row per group, a column per checkpoint.
    expect(html).toContain('Gold success by task group');
    const arithmeticRow = markdown.split('\n').find((line) => line.startsWith('| arithmetic |'));
    expect(
      arithmeticRow
        ?.split('|')
        .map((cell) => cell.trim())
        .filter(Boolean),
    ).toEqual(['arithmetic', '4', '25.0 %', '50.0 %', '75.0 %']);

    const data = JSON.parse(await readFile(path.join(folder, 'report.json'), 'utf8')) as ReportData;
    expect(data.format).toBe('drift-workbench-report');
    const run = data.runs[0]!;
    expect(run.metrics).toHaveLength(18);
    expect(run.metrics.at(-1)).toMatchObject({ type: 'eval', iteration: 2, step: 15 });
    expect(run.metrics.at(-1)!.loss).toBeCloseTo(0.69 - 0.3 + 0.02, 10);
    expect(run.pairCounts).toEqual([
      { iteration: 0, pairs: 4, train: 3, test: 1 },
      { iteration: 1, pairs: 4, train: 3, test: 1 },
      { iteration: 2, pairs: 4, train: 3, test: 1 },
    ]);
    expect(run.sampleCounts.map((counts) => [counts.iteration, counts.count, counts.finishReasons])).toEqual([
      [1, 3, { eos: 2, length: 1 }],
      [2, 3, { eos: 2, length: 1 }],
    ]);
    expect(run.beforeAfter.map((item) => [item.before.iteration, item.after.iteration])).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(run.environment).toMatchObject({ backend: 'wasm', tfjs: '4.22.0' });
    expect(run.config?.seed).toBe(42);
    expect(data.sources[0]).toMatchObject({ pairSet: 'demo@v1', datasetId: 'logs', runIds: ['run-a'] });
    expect(data.sources[0]!.importReport!.counts.conversations).toBe(40);
    expect(data.sources[0]!.mining!.byCategory).toMatchObject({ revision: 7, factual_error: 6 });
    expect(data.sources[0]!.manifest!.counts.byStatus).toEqual({ accepted: 12 });
    expect(data.evaluation!.winRates[0]!.interval.low).toBeCloseTo(0.51, 10);
    expect(data.evaluation!.checkpoints[2]!.diversity.vendiScore).toBe(3.5);
    expect(data.evaluation!.map!.shares[1]!.pointShare).toBeCloseTo(1 / 3, 10);
    expect(data.evaluationFile).toBe('evaluation.json');
    expect(data.limitations.length).toBeGreaterThan(3);
    expect(data.limitations.join('\n')).toContain('learning rate 5e-5');

    const pdf = await readFile(path.join(folder, 'report.pdf'), 'utf8');
    expect(pdf.startsWith('%PDF-1.4')).toBe(true);
    expect(Number(/% (\d+) characters/.exec(pdf)?.[1])).toBe(html.length);
  });

  it('compares two runs, marking the settings that differ', async () => {
    const workspace = await fixture({ secondRun: true });
    const result = await buildReport({
      workspaceDir: workspace.dir,
      runIds: ['run-a', 'run-b'],
      formats: ['html', 'json'],
    });
    expect(result.kind).toBe('compare');
    expect(result.title).toMatch(/^Comparison: /);
    expect(result.id).toMatch(/^compare-2-runs-\d{8}-\d{6}$/);
    const html = await readFile(path.join(workspace.dir, result.folder, 'report.html'), 'utf8');
    expect(html).toContain('<td>hyperparameters.beta *</td><td>0.1</td><td>0.3</td>');
    expect(html).toContain('<td>seed</td><td>42</td><td>42</td>');
    expect(html).toContain('Settings marked * differ between the runs.');
    // One colour per run in the training curves: its training line solid, its held-out line dashed.
    const curve = html.slice(html.indexOf('<svg', html.indexOf('curve-loss')));
    const strokes = [
      ...curve
        .slice(0, curve.indexOf('</svg>'))
        .matchAll(/<path d="M[^"]*" fill="none" stroke="(#[0-9A-F]+)" stroke-width="1.8"( stroke-dasharray="5 3")?/g),
    ].map((match) => `${match[1]}${match[2] ? ' dashed' : ''}`);
    expect(strokes).toEqual([`${colorOf(0)}`, `${colorOf(0)} dashed`, `${colorOf(1)}`, `${colorOf(1)} dashed`]);
    const data = JSON.parse(
      await readFile(path.join(workspace.dir, result.folder, 'report.json'), 'utf8'),
    ) as ReportData;
    expect(data.runs.map((run) => run.id)).toEqual(['run-a', 'run-b']);
    // Both runs trained on the same pair set: one data source.
    expect(data.sources).toHaveLength(1);
    expect(data.sources[0]!.runIds).toEqual(['run-a', 'run-b']);
    expect(data.evaluation).toBeNull();
    expect(data.limitations.join('\n')).toContain('No evaluation was attached');
  });

  it('builds from a run folder with missing and damaged files, and says what was missing', async () => {
    const workspace = await fixture();
    const run = path.join(workspace.dir, 'runs', 'run-a');
    await rm(path.join(workspace.dir, 'pairsets'), { recursive: true });
    await rm(path.join(run, 'samples.jsonl'));
    await rm(path.join(run, 'iter-2'), { recursive: true });
    await appendFile(path.join(run, 'metrics.jsonl'), '{"type":"train","not":"a row"}\n{"torn');
    const result = await buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['json', 'md'] });
    expect(result.warnings.join('\n')).toMatch(/pair set demo@v1: .*manifest\.json is missing/);
    expect(result.warnings.join('\n')).toMatch(/metrics\.jsonl: 2 line\(s\) were not valid rows/);
    const data = JSON.parse(
      await readFile(path.join(workspace.dir, result.folder, 'report.json'), 'utf8'),
    ) as ReportData;
    expect(data.runs[0]!.metrics).toHaveLength(18);
    expect(data.runs[0]!.pairCounts.map((counts) => counts.iteration)).toEqual([0, 1]);
    expect(data.runs[0]!.beforeAfter).toEqual([]);
    expect(data.sources[0]!.manifest).toBeNull();
    // This run.json names no dataset, so nothing leads to the dataset's reports.
    expect(data.sources[0]!.datasetId).toBeNull();

    // A run folder with nothing but a damaged run.json still gives a report.
    await mkdir(path.join(workspace.dir, 'runs', 'bare'), { recursive: true });
    await writeFile(path.join(workspace.dir, 'runs', 'bare', 'run.json'), '{"status":"running", "notes": 3');
    const bare = await buildReport({ workspaceDir: workspace.dir, runIds: ['bare'], formats: ['html', 'md'] });
    expect(bare.warnings).toEqual([expect.stringMatching(/run bare: run\.json is not valid JSON/)]);
    const html = await readFile(path.join(workspace.dir, bare.folder, 'report.html'), 'utf8');
    expect(html).toContain('No run configuration could be read');
    expect(html).toContain('No metrics were recorded yet');
    const markdown = await readFile(path.join(workspace.dir, bare.folder, 'report.md'), 'utf8');
    expect(markdown).toContain('## Warnings');
  });

  it('finds the dataset through run.json when the pair set is gone', async () => {
    const workspace = await fixture();
    const runFile = path.join(workspace.dir, 'runs', 'run-a', 'run.json');
    const detail = JSON.parse(await readFile(runFile, 'utf8')) as Record<string, unknown>;
    await writeFile(runFile, JSON.stringify({ ...detail, formatVersion: 1, kind: 'preference', datasetId: 'logs' }));
    await rm(path.join(workspace.dir, 'pairsets'), { recursive: true });
    const result = await buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['json'] });
    const data = JSON.parse(
      await readFile(path.join(workspace.dir, result.folder, 'report.json'), 'utf8'),
    ) as ReportData;
    expect(data.sources[0]).toMatchObject({ manifest: null, datasetId: 'logs' });
    expect(data.sources[0]!.importReport?.counts.conversations).toBe(40);
  });

  it('refuses a run that does not exist and an evaluation that is not one', async () => {
    const workspace = await fixture();
    await expect(
      buildReport({ workspaceDir: workspace.dir, runIds: ['nope'], formats: ['html'] }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      buildReport({ workspaceDir: workspace.dir, runIds: ['../escape'], formats: ['html'] }),
    ).rejects.toBeInstanceOf(AppFailure);
    const bad = path.join(workspace.dir, 'bad-evaluation.json');
    await writeFile(bad, JSON.stringify({ version: 1, checkpoints: 'no' }));
    await expect(
      buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['html'], evaluationFile: bad }),
    ).rejects.toMatchObject({ code: 'report_evaluation_invalid' });
    // Nothing was written for the failed builds.
    expect(await readdir(path.join(workspace.dir, 'reports')).catch(() => [])).toEqual([]);
  });

  it('rebuilding an id replaces its folder', async () => {
    const workspace = await fixture();
    await buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['md'], id: 'same' });
    await buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['json'], id: 'same' });
    expect((await reportFiles(workspace.dir, 'same')).map((file) => file.path)).toEqual(['report.json']);
  });
});

describe('exportReport', () => {
  it('copies every file, refuses to replace files unless asked', async () => {
    const workspace = await fixture();
    const result = await buildReport({
      workspaceDir: workspace.dir,
      runIds: ['run-a'],
      formats: ['html', 'md'],
      id: 'r',
    });
    const target = path.join(workspace.dir, 'exported');
    const exported = await exportReport(workspace.dir, 'r', target);
    expect(exported.files.map((file) => path.relative(target, file).split(path.sep).join('/')).sort()).toEqual(
      result.files,
    );
    expect(await readFile(path.join(target, 'report.html'), 'utf8')).toBe(
      await readFile(path.join(workspace.dir, 'reports', 'r', 'report.html'), 'utf8'),
    );
    await expect(exportReport(workspace.dir, 'r', target)).rejects.toMatchObject({ code: 'export_target_not_empty' });
    await expect(exportReport(workspace.dir, 'r', target, { overwrite: true })).resolves.toMatchObject({
      destDir: target,
    });
    await expect(exportReport(workspace.dir, 'missing', target)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('addReportPdf', () => {
  it('prints a built report with the host’s printer and records the pdf (the desktop app’s path)', async () => {
    const fixtureWorkspace = await fixture();
    const workspace = await openWorkspace(fixtureWorkspace.dir);
    try {
      const result = await buildReport({ workspaceDir: workspace.dir, runIds: ['run-a'], formats: ['html'], id: 'r' });
      const events = new EngineEvents();
      const changed: string[] = [];
      events.on('catalog:changed', ({ section }) => changed.push(section));
      await completeReportBuild({} as Job, result, { workspace, events });
      expect(changed).toEqual(['reports']);
      const printed: string[] = [];
      const entry = await addReportPdf(workspace, 'r', async (html) => {
        printed.push(html);
        return fakePdf(html);
      });
      expect(printed).toEqual([await readFile(path.join(workspace.dir, 'reports', 'r', 'report.html'), 'utf8')]);
      expect(entry.formats).toEqual(['html', 'pdf']);
      expect(entry.files).toContain('report.pdf');
      expect(listReports(workspace).map((report) => report.formats)).toEqual([['html', 'pdf']]);
      await expect(addReportPdf(workspace, 'r', async () => new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
        code: 'report_pdf_unavailable',
      });
    } finally {
      await workspace.close();
    }
  });
});

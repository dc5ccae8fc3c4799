/**
 * Builds a report folder, `<workspace>/reports/<id>/`:
 *
 *   report.html        self-contained (inline SVG charts and CSS, a CSP that forbids every request)
 *   report.pdf         report.html printed (PrintToPdf callback: Electron or headless Chromium)
 *   report.md          Markdown, with its charts in charts/<id>.svg
 *   report.json        ReportData: every number the report shows, and more
 *
 * The folder is written under a staging name and renamed into place when complete, so a reader
 * never sees half a report; rebuilding an id replaces its folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, type ReportFormat } from '../../api/index.js';
import { fsyncFolder, writeFileAtomic } from '../workspace/atomic.js';
import { ENTRY_FOLDERS, reportDir, resolveInside } from '../workspace/index.js';
import { gatherReportData, type ReportData } from './data.js';
import { buildDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { chromiumPrinter, renderPdf, type PrintToPdf } from './pdf.js';

export const REPORT_FILES = {
  html: 'report.html',
  pdf: 'report.pdf',
  md: 'report.md',
  json: 'report.json',
} as const satisfies Record<ReportFormat, string>;

export interface BuildReportOptions {
  workspaceDir: string;
  /** One run (a run report) or several (a comparison). */
  runIds: string[];
  formats: ReportFormat[];
  /** Default: from the runs and the time, made unique among existing report folders. */
  id?: string;
  title?: string;
  /** An EvaluationResult JSON file. */
  evaluationFile?: string;
  /** Prints the PDF; default: headless Chromium ({@link chromiumPrinter}). */
  printToPdf?: PrintToPdf;
  progress?: (phase: string, done: number, total: number) => void;
  signal?: AbortSignal;
  now?: Date;
}

/** What a build wrote; the `report.build` job returns it. */
export interface ReportBuildResult {
  id: string;
  title: string;
  kind: 'run' | 'compare';
  runIds: string[];
  createdAt: string;
  formats: ReportFormat[];
  /** The report folder, relative to the workspace (forward slashes). */
  folder: string;
  /** The files written, relative to the folder (forward slashes). */
  files: string[];
  warnings: string[];
}

/** Reads the runs and writes the report in every requested format. */
export async function buildReport(options: BuildReportOptions): Promise<ReportBuildResult> {
  const formats = [...new Set(options.formats)];
  if (formats.length === 0) throw new AppFailure('invalid_request', 'Pick at least one report format.');
  if (options.runIds.length === 0) throw new AppFailure('invalid_request', 'A report needs at least one run.');
  const now = options.now ?? new Date();
  const id = options.id ?? (await freshReportId(options.workspaceDir, options.runIds, now));
  const target = reportDir(options.workspaceDir, id);
  const steps = 2 + formats.length;
  let done = 0;
  const step = (phase: string) => {
    options.signal?.throwIfAborted();
    options.progress?.(phase, done++, steps);
  };

  step('reading the runs');
  const data = await gatherReportData({
    workspaceDir: options.workspaceDir,
    id,
    runIds: options.runIds,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.evaluationFile !== undefined ? { evaluationFile: options.evaluationFile } : {}),
    now,
  });
  step('drawing the charts');
  const document = buildDocument(data);
  const html = renderHtml(document);

  const reports = resolveInside(options.workspaceDir, ENTRY_FOLDERS.reports);
  await mkdir(reports, { recursive: true });
  const staging = path.join(reports, `.staging-${id}-${randomBytes(4).toString('hex')}`);
  const files: string[] = [];
  const write = async (relative: string, content: string | Uint8Array) => {
    const file = path.join(staging, ...relative.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, content);
    files.push(relative);
  };
  try {
    await mkdir(staging, { recursive: true });
    for (const format of formats) {
      step(`writing ${REPORT_FILES[format]}`);
      if (format === 'html') await write(REPORT_FILES.html, html);
      if (format === 'json') await write(REPORT_FILES.json, `${JSON.stringify(data, null, 2)}\n`);
      if (format === 'md') {
        const markdown = renderMarkdown(document);
        for (const file of markdown.files) await write(file.path, file.content);
        await write(REPORT_FILES.md, markdown.markdown);
      }
      if (format === 'pdf')
        await write(REPORT_FILES.pdf, await renderPdf(html, options.printToPdf ?? chromiumPrinter()));
    }
    options.signal?.throwIfAborted();
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    await fsyncFolder(reports);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  options.progress?.('done', steps, steps);
  return resultOf(data, formats, files, options.workspaceDir, target);
}

function resultOf(
  data: ReportData,
  formats: ReportFormat[],
  files: string[],
  workspaceDir: string,
  folder: string,
): ReportBuildResult {
  return {
    id: data.id,
    title: data.title,
    kind: data.kind,
    runIds: data.runs.map((run) => run.id),
    createdAt: data.createdAt,
    formats: (['html', 'pdf', 'md', 'json'] as const).filter((format) => formats.includes(format)),
    folder: path.relative(workspaceDir, folder).split(path.sep).join('/'),
    files: [...files].sort(),
    warnings: data.warnings,
  };
}

/** `<run>-<yyyymmdd-hhmmss>` or `compare-<n>-runs-…`, with `-2`, `-3`… when the folder exists. */
async function freshReportId(workspaceDir: string, runIds: string[], now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = `${runIds.length === 1 ? runIds[0]!.slice(0, 96) : `compare-${runIds.length}-runs`}-${stamp}`;
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      await stat(reportDir(workspaceDir, id));
    } catch {
      return id;
    }
  }
}

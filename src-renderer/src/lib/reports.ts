/**
 * The Reports view's pure rules: which runs a report can describe, the `report.build` params a
 * form makes, the list's order and labels, and what the export step accepts. The state that
 * uses them is in reports.svelte.ts.
 */
import type { AppError } from './api.js';
import type { ReportBuildParams, ReportEntry, ReportFormat, RunEntry } from '../../../src-main/api/schemas.js';

/** The formats in the order the form shows them. */
export const REPORT_FORMATS: readonly { id: ReportFormat; label: string }[] = [
  { id: 'html', label: 'HTML' },
  { id: 'md', label: 'Markdown' },
  { id: 'json', label: 'JSON' },
  { id: 'pdf', label: 'PDF' },
];

/** The most runs one report compares (ReportBuildParams). */
export const MAX_REPORT_RUNS = 16;

/** Reports newest first (the catalog keeps them in creation order). */
export function sortReports(reports: readonly ReportEntry[]): ReportEntry[] {
  return [...reports].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Runs a report can describe: finished or paused ones (their metrics no longer move). */
export function reportableRuns(runs: readonly RunEntry[]): RunEntry[] {
  return runs.filter((run) => run.status === 'succeeded' || run.status === 'paused');
}

/** The run names of a report, falling back to the ids of runs no longer in the catalog. */
export function runNames(runIds: readonly string[] | undefined, runs: readonly RunEntry[]): string[] {
  return (runIds ?? []).map((id) => runs.find((run) => run.id === id)?.name ?? id);
}

export interface ReportForm {
  runIds: readonly string[];
  formats: readonly ReportFormat[];
  title: string;
  /** '' for none. */
  evaluationId: string;
}

/**
 * The `report.build` params for a form, and whether a PDF is asked for. The job always builds
 * without PDF; the view then asks the host to print (`report:pdf`), which works in the desktop
 * app, where a job worker cannot print. HTML is added when PDF is asked, as the PDF is printed from it.
 */
export function buildRequest(form: ReportForm): { params: ReportBuildParams; pdf: boolean } {
  const pdf = form.formats.includes('pdf');
  const formats = REPORT_FORMATS.map((format) => format.id).filter(
    (format) => format !== 'pdf' && (form.formats.includes(format) || (pdf && format === 'html')),
  );
  const title = form.title.trim();
  const params: ReportBuildParams = { runIds: [...form.runIds], formats };
  if (title !== '') params.title = title;
  if (form.evaluationId !== '') params.evaluationId = form.evaluationId;
  return { params, pdf };
}

/** Why the form cannot be built yet, or null when it can. */
export function formProblem(form: ReportForm): string | null {
  if (form.runIds.length === 0) return 'Pick at least one run.';
  if (form.runIds.length > MAX_REPORT_RUNS) return `A report compares at most ${MAX_REPORT_RUNS} runs.`;
  if (form.formats.length === 0) return 'Pick at least one format.';
  return null;
}

/** True for an absolute path on the computer running the engine (POSIX, a Windows drive or a UNC share). */
export function isAbsolutePath(value: string): boolean {
  return value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value) || value.startsWith('\\\\');
}

/** Why a typed export folder cannot be used, or null. */
export function exportFolderProblem(value: string): string | null {
  const folder = value.trim();
  if (folder === '') return 'Choose a folder to export to.';
  if (!isAbsolutePath(folder)) return 'Type an absolute path, such as /home/me/reports/weekly.';
  return null;
}

/** The files an export would replace, when the error is `export_target_not_empty`; otherwise null. */
export function exportConflicts(error: AppError): string[] | null {
  if (error.code !== 'export_target_not_empty') return null;
  const files = (error.details as { files?: unknown } | undefined)?.files;
  return Array.isArray(files) ? files.filter((file): file is string => typeof file === 'string') : [];
}

/** A catalog time as a local date and time ("Mar 1, 2025, 10:04 AM"); the text itself when it is no date. */
export function formatCreated(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 files, 41 KB" for a report's file list. */
export function describeFiles(files: readonly { bytes: number }[]): string {
  const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
  const size =
    bytes < 1024
      ? `${bytes} B`
      : bytes < 1024 * 1024
        ? `${Math.round(bytes / 1024)} KB`
        : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${files.length} ${files.length === 1 ? 'file' : 'files'}, ${size}`;
}

/**
 * The Reports view's state: the build form (runs with metrics, an optional evaluation, formats,
 * title) and its `report.build` job, the PDF printed by the host afterwards (`report:pdf`), the
 * report opened for a preview (`report:get` with its HTML) and the export to a folder
 * (`report:export`, with an explicit replace step when the folder already holds its files).
 */
import type { EvaluationMeta } from '../../../src-main/api/eval.js';
import type { Job, ReportEntry, ReportFormat, RunEntry } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { pickFolder } from './dialogs.js';
import { jobs } from './jobs.svelte.js';
import { buildRequest, exportConflicts, exportFolderProblem, formProblem, reportableRuns } from './reports.js';
import { Resource } from './resource.svelte.js';

export interface OpenedReport {
  entry: ReportEntry;
  files: { path: string; bytes: number }[];
  html: string | null;
}

export class ReportsState {
  readonly evaluations = new Resource<EvaluationMeta[]>(() => api.invoke('eval:list', {}));

  // The build form.
  runIds: string[] = $state([]);
  formats: ReportFormat[] = $state(['html', 'md', 'json']);
  title = $state('');
  evaluationId = $state('');
  /** Run id → whether run:metrics has rows for it; runs not checked yet are absent. */
  hasMetrics: Record<string, boolean> = $state({});
  formError: AppError | null = $state.raw(null);
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);
  /** The build asked for a PDF, still to be printed once the job succeeds. */
  #pdfWanted = false;
  printing = $state(false);
  pdfError: AppError | null = $state.raw(null);

  // The report opened.
  selectedId: string | null = $state(null);
  opened: OpenedReport | null = $state.raw(null);
  openError: AppError | null = $state.raw(null);

  // Its export.
  destDir = $state('');
  exporting = $state(false);
  exported: { destDir: string; files: string[] } | null = $state.raw(null);
  exportError: AppError | null = $state.raw(null);
  /** Files an export would replace, waiting for "Replace files"; null when nothing waits. */
  conflicts: string[] | null = $state.raw(null);

  readonly problem = $derived(
    formProblem({ runIds: this.runIds, formats: this.formats, title: this.title, evaluationId: this.evaluationId }),
  );

  /** The reportable runs whose metrics are known to exist (succeeded or paused, with metrics.jsonl rows). */
  runsWithMetrics(runs: readonly RunEntry[]): RunEntry[] {
    return reportableRuns(runs).filter((run) => this.hasMetrics[run.id] === true);
  }

  /** Asks run:metrics, once per run, whether a reportable run has any metric row. */
  async checkMetrics(runs: readonly RunEntry[]): Promise<void> {
    const unchecked = reportableRuns(runs).filter((run) => !(run.id in this.hasMetrics));
    const answers = await Promise.all(
      unchecked.map(async (run) => {
        const result = await api.invoke('run:metrics', { id: run.id, limit: 1 });
        return [run.id, result.ok && result.value.rows.length > 0] as const;
      }),
    );
    if (answers.length > 0) this.hasMetrics = { ...this.hasMetrics, ...Object.fromEntries(answers) };
  }

  toggleRun(id: string, on: boolean): void {
    this.runIds = on ? [...this.runIds.filter((item) => item !== id), id] : this.runIds.filter((item) => item !== id);
  }

  toggleFormat(format: ReportFormat, on: boolean): void {
    this.formats = on
      ? [...this.formats.filter((item) => item !== format), format]
      : this.formats.filter((item) => item !== format);
  }

  async build(): Promise<void> {
    this.formError = null;
    this.pdfError = null;
    const { params, pdf } = buildRequest({
      runIds: this.runIds,
      formats: this.formats,
      title: this.title,
      evaluationId: this.evaluationId,
    });
    const result = await api.invoke('job:start', { kind: 'report.build', params: { ...params } });
    if (!result.ok) {
      this.formError = result.error;
      return;
    }
    this.#pdfWanted = pdf;
    this.jobId = result.value.id;
  }

  /** Called once when the build job ends: opens the new report, then prints its PDF if asked. */
  async finished(job: Job): Promise<void> {
    if (job.status !== 'succeeded') return;
    const id = (job.result as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') return;
    await this.open(id);
    if (this.#pdfWanted) {
      this.#pdfWanted = false;
      await this.printPdf(id);
    }
  }

  /** Prints report.pdf through the host (Electron's printToPDF, or Chromium in browser mode). */
  async printPdf(id: string): Promise<void> {
    this.printing = true;
    this.pdfError = null;
    const result = await api.invoke('report:pdf', { id });
    this.printing = false;
    if (!result.ok) {
      this.pdfError = result.error;
      return;
    }
    if (this.selectedId === id) await this.open(id);
  }

  /** Selects a report and loads its entry, files and HTML for the preview. */
  async open(id: string): Promise<void> {
    if (this.selectedId !== id) {
      this.exported = null;
      this.exportError = null;
      this.conflicts = null;
    }
    this.selectedId = id;
    const result = await api.invoke('report:get', { id, html: true });
    if (this.selectedId !== id) return;
    if (result.ok) {
      this.opened = result.value;
      this.openError = null;
    } else {
      this.opened = null;
      this.openError = result.error;
    }
  }

  /** The desktop app's folder picker; browser mode types the path instead. */
  async browse(): Promise<void> {
    const picked = await pickFolder('Export the report to a folder');
    if (picked.error) this.exportError = picked.error;
    if (picked.path !== null) this.destDir = picked.path;
  }

  /** Copies the opened report's files to `destDir`; `overwrite` only after the user confirmed. */
  async exportTo(overwrite = false): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    this.exported = null;
    this.exportError = null;
    this.conflicts = null;
    const problem = exportFolderProblem(this.destDir);
    if (problem) {
      this.exportError = { code: 'invalid_request', message: problem };
      return;
    }
    this.exporting = true;
    const result = await api.invoke('report:export', { id, destDir: this.destDir.trim(), overwrite });
    this.exporting = false;
    if (result.ok) {
      this.exported = result.value;
      return;
    }
    const conflicts = exportConflicts(result.error);
    if (conflicts) this.conflicts = conflicts;
    else this.exportError = result.error;
  }

  cancelReplace(): void {
    this.conflicts = null;
  }
}

export const reports = new ReportsState();

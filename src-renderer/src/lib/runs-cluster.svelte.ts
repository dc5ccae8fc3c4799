/**
 * Scale-out from the Runs view: exporting a run as a TRL bundle for a GPU cluster (`run.export`)
 * and importing a finished bundle back as a run (`run.import`). The bundle folder is picked with
 * the native dialog in the desktop app and typed in browser mode (a path on the server's computer).
 */
import type {
  AccelerateConfig,
  BaseModelChoice,
  RunExportParams,
  RunImportParams,
  RunImportResult,
  TrlExportResult,
} from '../../../src-main/api/export.js';
import type { Job } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { pickFolder } from './dialogs.js';
import { jobs } from './jobs.svelte.js';
import { runs } from './runs.svelte.js';

export type BaseModelKind = BaseModelChoice['kind'];

/** The base-model choices the export form offers, in order. */
export const BASE_MODEL_CHOICES: readonly { kind: BaseModelKind; label: string }[] = [
  { kind: 'auto', label: 'Its hub id if known, otherwise a copy in the bundle' },
  { kind: 'hub', label: 'A hub id' },
  { kind: 'path', label: 'A path on the cluster' },
  { kind: 'copy', label: 'A copy in the bundle' },
];

/** A finished job's error (the AppError shape with the code as a plain string). */
function jobFailure(job: Job | null): AppError | null {
  return job?.status === 'failed' ? ((job.error as AppError | undefined) ?? null) : null;
}

/** The "Export for a GPU cluster (TRL)" panel of the selected run. */
export class RunExportState {
  /** The run whose panel is open; null when closed. */
  runId: string | null = $state(null);
  outDir = $state('');
  accelerate: AccelerateConfig = $state('zero3');
  baseModel: BaseModelKind = $state('auto');
  /** The hub id or the cluster path, for those two base-model choices. */
  baseReference = $state('');
  paperScale = $state(false);
  nodes = $state(1);
  gpusPerNode = $state(8);
  overwrite = $state(false);
  starting = $state(false);
  error: AppError | null = $state.raw(null);
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);
  readonly result: TrlExportResult | null = $derived(
    this.job?.status === 'succeeded' ? (this.job.result as TrlExportResult) : null,
  );
  readonly jobError: AppError | null = $derived(jobFailure(this.job));

  /** What stops an export, in words; empty when it can start. */
  readonly problems: string[] = $derived.by(() => {
    const problems: string[] = [];
    if (this.outDir.trim() === '') problems.push('Choose the folder to write the bundle to.');
    if (this.baseModel === 'hub' && this.baseReference.trim() === '') problems.push('Give the base model’s hub id.');
    if (this.baseModel === 'path' && this.baseReference.trim() === '') {
      problems.push('Give the base model’s path on the cluster.');
    }
    if (!Number.isSafeInteger(this.nodes) || this.nodes < 1) problems.push('Nodes is a whole number from 1.');
    if (!Number.isSafeInteger(this.gpusPerNode) || this.gpusPerNode < 1) {
      problems.push('GPUs per node is a whole number from 1.');
    }
    return problems;
  });

  /** Opens the panel for `runId`, or closes it when it is open for that run. */
  toggle(runId: string): void {
    if (this.runId === runId) {
      this.runId = null;
      return;
    }
    this.runId = runId;
    this.error = null;
    this.jobId = null;
  }

  /** Desktop: the native folder picker fills the output folder. */
  async browse(): Promise<void> {
    const picked = await pickFolder('Choose the folder for the TRL bundle');
    this.error = picked.error;
    if (picked.path !== null) this.outDir = picked.path;
  }

  /** The job's params from the form. */
  params(runId: string): RunExportParams {
    const reference = this.baseReference.trim();
    const baseModel: BaseModelChoice =
      this.baseModel === 'hub'
        ? { kind: 'hub', id: reference }
        : this.baseModel === 'path'
          ? { kind: 'path', path: reference }
          : { kind: this.baseModel };
    return {
      runId,
      target: 'trl',
      outDir: this.outDir.trim(),
      overwrite: this.overwrite,
      accelerate: this.accelerate,
      baseModel,
      paperScale: this.paperScale,
      nodes: this.nodes,
      gpusPerNode: this.gpusPerNode,
    };
  }

  /** Starts the `run.export` job for the open panel's run. */
  async start(): Promise<void> {
    const runId = this.runId;
    if (runId === null || this.problems.length > 0 || this.starting) return;
    this.starting = true;
    this.error = null;
    const params = this.params(runId);
    const result = await api.invoke('job:start', { kind: 'run.export', params });
    this.starting = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.jobId = result.value.id;
  }
}

/** The "Import cluster run" panel of the runs list. */
export class RunImportState {
  open = $state(false);
  /** The bundle folder, as typed or picked. */
  dir = $state('');
  /** Optional display name; the bundle's run name with "(TRL)" by default. */
  name = $state('');
  /** Add each finished iteration's checkpoint to the workspace as a model. */
  models = $state(true);
  starting = $state(false);
  error: AppError | null = $state.raw(null);
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);
  readonly result: RunImportResult | null = $derived(
    this.job?.status === 'succeeded' ? (this.job.result as RunImportResult) : null,
  );
  readonly jobError: AppError | null = $derived(jobFailure(this.job));

  /** The import job whose success was already handled (its run was selected). */
  #handled: string | null = null;

  toggle(): void {
    this.open = !this.open;
    if (this.open) this.error = null;
  }

  /** Desktop: the native folder picker fills the bundle folder. */
  async browse(): Promise<void> {
    const picked = await pickFolder('Choose the TRL bundle folder to import');
    this.error = picked.error;
    if (picked.path !== null) this.dir = picked.path;
  }

  /** Starts the `run.import` job for the bundle folder. */
  async start(): Promise<void> {
    const dir = this.dir.trim();
    if (dir === '' || this.starting) return;
    this.starting = true;
    this.error = null;
    const name = this.name.trim();
    const params: RunImportParams = { dir, models: this.models, ...(name === '' ? {} : { name }) };
    const result = await api.invoke('job:start', { kind: 'run.import', params });
    this.starting = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.jobId = result.value.id;
  }

  /** Once the import succeeded: clear the form and select the imported run. Idempotent. */
  finished(job: Job): void {
    if (job.status !== 'succeeded' || this.#handled === job.id) return;
    this.#handled = job.id;
    this.dir = '';
    this.name = '';
    const runId = (job.result as RunImportResult | undefined)?.runId;
    if (typeof runId === 'string') runs.select(runId);
  }
}

export const runExport = new RunExportState();
export const runImport = new RunImportState();

/**
 * The Models view's library: adding a local Hugging Face folder (inspect, then a `model.import`
 * job), the selected model's details (`model:get`) and deleting a model.
 */
import type { ResponseOf } from '../../../src-main/api/contract.js';
import type { ModelImportParams, ModelImportResult } from '../../../src-main/api/models.js';
import type { Job } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { pickFolder } from './dialogs.js';
import { jobs } from './jobs.svelte.js';

export type ModelInspection = ResponseOf<'model:inspect'>;
export type ModelDetails = ResponseOf<'model:get'>;

/** The Models view's sub-pages. */
export type ModelsTab = 'library' | 'playground' | 'train';

export class ModelsState {
  tab: ModelsTab = $state('library');

  /** The folder to add, as typed or picked. */
  path = $state('');
  /** Optional display name; the folder's name by default. */
  name = $state('');
  inspection: ModelInspection | null = $state.raw(null);
  inspecting = $state(false);
  importError: AppError | null = $state.raw(null);
  importJobId: string | null = $state(null);
  readonly importJob: Job | null = $derived(jobs.list.find((job) => job.id === this.importJobId) ?? null);

  selectedId: string | null = $state(null);
  details: ModelDetails | null = $state.raw(null);
  detailsError: AppError | null = $state.raw(null);
  confirmingDelete = $state(false);
  deleting = $state(false);

  /** The import job whose success was already handled (the selection moved to its model). */
  #handledImport: string | null = null;

  /** Desktop: the native folder picker fills the path field and inspects the folder. */
  async browse(): Promise<void> {
    const picked = await pickFolder('Choose a Hugging Face model folder');
    if (picked.error) this.importError = picked.error;
    if (picked.path === null) return;
    this.path = picked.path;
    await this.inspect();
  }

  /** A new path: what was shown for the previous one (its inspection, a finished import) goes. */
  pathChanged(): void {
    if (this.inspection?.path !== this.path.trim()) this.inspection = null;
    const job = this.importJob;
    if (job !== null && job.status !== 'queued' && job.status !== 'running') this.importJobId = null;
  }

  /** Reads what the folder holds (config, weight headers, tokenizer) without importing it. */
  async inspect(): Promise<void> {
    const path = this.path.trim();
    if (path === '') return;
    this.inspecting = true;
    this.importError = null;
    const result = await api.invoke('model:inspect', { path });
    this.inspecting = false;
    if (result.ok) this.inspection = result.value;
    else {
      this.inspection = null;
      this.importError = result.error;
    }
  }

  /** Starts the `model.import` job for the path field's folder. */
  async startImport(): Promise<void> {
    const path = this.path.trim();
    if (path === '') return;
    this.importError = null;
    const name = this.name.trim();
    const params: ModelImportParams = name === '' ? { path } : { path, name };
    const result = await api.invoke('job:start', { kind: 'model.import', params });
    if (!result.ok) {
      this.importError = result.error;
      return;
    }
    this.importJobId = result.value.id;
  }

  /** Once the import job succeeded: clear the form and show the new model. Idempotent. */
  importFinished(job: Job): void {
    if (job.status !== 'succeeded' || this.#handledImport === job.id) return;
    this.#handledImport = job.id;
    const modelId = (job.result as ModelImportResult | undefined)?.modelId;
    this.path = '';
    this.name = '';
    this.inspection = null;
    if (typeof modelId === 'string') void this.select(modelId);
  }

  async select(id: string | null): Promise<void> {
    this.selectedId = id;
    this.confirmingDelete = false;
    this.details = null;
    this.detailsError = null;
    if (id === null) return;
    const result = await api.invoke('model:get', { id });
    if (this.selectedId !== id) return;
    if (result.ok) this.details = result.value;
    else this.detailsError = result.error;
  }

  async remove(id: string): Promise<void> {
    this.deleting = true;
    const result = await api.invoke('model:delete', { id });
    this.deleting = false;
    this.confirmingDelete = false;
    if (result.ok) {
      if (this.selectedId === id) await this.select(null);
    } else {
      this.detailsError = result.error;
    }
  }
}

export const models = new ModelsState();

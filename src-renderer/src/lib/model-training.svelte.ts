/**
 * The Models view's training form: supervised fine-tuning (`model.train-sft`) of a workspace
 * model, or of a fresh preset model with a tokenizer learned from the data, on a workspace
 * dataset or a JSONL file.
 */
import type { ModelPreset, ModelTrainSftParams } from '../../../src-main/api/models.js';
import type { Job } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { jobs } from './jobs.svelte.js';

/** The presets the engine trains from scratch (engine/train/presets.ts). */
export const TRAINING_PRESETS: readonly { id: ModelPreset; label: string }[] = [
  { id: 'tiny', label: 'Tiny preset (about 0.1M weights, trains in seconds)' },
  { id: 'small', label: 'Small preset (about 1M weights)' },
];

export class ModelTrainingState {
  /** `preset:<name>` or a workspace model id. */
  base = $state('preset:tiny');
  source: 'dataset' | 'file' = $state('dataset');
  datasetId = $state('');
  /** Absolute path of a JSONL file of {"messages"} or {"prompt", "completion"} lines. */
  file = $state('');
  name = $state('');
  maxSteps = $state(20);
  epochs = $state(1);
  /** From scratch wants a far larger rate than fine-tuning (the engine's default, 5e-5). */
  learningRate = $state(3e-3);
  batchSize = $state(8);
  seed = $state(0);

  error: AppError | null = $state.raw(null);
  starting = $state(false);
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);

  chooseBase(base: string): void {
    const wasPreset = this.base.startsWith('preset:');
    this.base = base;
    const isPreset = base.startsWith('preset:');
    if (wasPreset !== isPreset) this.learningRate = isPreset ? 3e-3 : 5e-5;
  }

  async start(): Promise<void> {
    this.error = null;
    this.starting = true;
    const base = this.base.startsWith('preset:')
      ? { preset: this.base.slice('preset:'.length) as ModelPreset }
      : { model: this.base };
    const data = this.source === 'dataset' ? { datasetId: this.datasetId } : { files: [this.file.trim()] };
    const name = this.name.trim();
    const params: ModelTrainSftParams = {
      ...base,
      ...data,
      ...(name === '' ? {} : { outputName: name }),
      seed: this.seed,
      hyperparameters: {
        epochs: this.epochs,
        maxSteps: this.maxSteps > 0 ? this.maxSteps : null,
        learningRate: this.learningRate,
        batchSize: this.batchSize,
      },
    };
    const result = await api.invoke('job:start', { kind: 'model.train-sft', params });
    this.starting = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.jobId = result.value.id;
  }
}

export const modelTraining = new ModelTrainingState();

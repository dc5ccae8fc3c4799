/**
 * The Models view's playground: one prompt, the sampling settings, and a `model.generate` job
 * whose tokens arrive as `job:output` events `{type: 'token', row, token, text}` and are appended
 * as they come.
 */
import type { GenerateTokenOutput, ModelGenerateParams, ModelGenerateResult } from '../../../src-main/api/models.js';
import type { Job } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';

/** The sampling settings; the defaults are the engine's (HF's): plain sampling, seed 0. */
export interface SamplingSettings {
  maxNewTokens: number;
  /** 0: greedy. */
  temperature: number;
  topP: number;
  /** 0: off. */
  topK: number;
  minP: number;
  repetitionPenalty: number;
  /** One stop string per line. */
  stopStrings: string;
  seed: number;
}

export const SAMPLING_DEFAULTS: SamplingSettings = {
  maxNewTokens: 64,
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  repetitionPenalty: 1,
  stopStrings: '',
  seed: 0,
};

/** How a generation ended, from the job's result. */
export interface GenerationSummary {
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  finishReason: string;
}

function isTokenOutput(data: unknown): data is GenerateTokenOutput {
  if (typeof data !== 'object' || data === null) return false;
  const output = data as Partial<GenerateTokenOutput>;
  return output.type === 'token' && typeof output.row === 'number' && typeof output.text === 'string';
}

type Pending = { event: 'output'; jobId: string; data: unknown } | { event: 'job'; job: Job };

export class PlaygroundState {
  modelId: string | null = $state(null);
  prompt = $state('');
  /** Render the prompt as a user turn with the model's chat template. */
  chat = $state(false);
  sampling: SamplingSettings = $state({ ...SAMPLING_DEFAULTS });

  /** The prompt of the latest generation, shown before its completion. */
  shownPrompt = $state('');
  /** The streamed completion so far. */
  text = $state('');
  tokens = $state(0);
  jobId: string | null = $state(null);
  status: Job['status'] | null = $state(null);
  starting = $state(false);
  stopping = $state(false);
  summary: GenerationSummary | null = $state.raw(null);
  error: AppError | null = $state.raw(null);
  readonly running = $derived(this.starting || this.status === 'queued' || this.status === 'running');

  #unsubscribe: (() => void) | null = null;

  resetSampling(): void {
    this.sampling = { ...SAMPLING_DEFAULTS };
  }

  /** Starts a generation and streams its tokens into `text`. */
  async generate(): Promise<void> {
    if (this.modelId === null || this.running) return;
    this.#stopListening();
    this.text = '';
    this.shownPrompt = this.chat ? '' : this.prompt;
    this.tokens = 0;
    this.summary = null;
    this.error = null;
    this.jobId = null;
    this.status = null;
    this.starting = true;

    // Events can outrun the answer to job:start: keep them until the job's id is known.
    let jobId: string | null = null;
    const pending: Pending[] = [];
    const onOutput = (jobIdOfEvent: string, data: unknown): void => {
      if (jobId === null) pending.push({ event: 'output', jobId: jobIdOfEvent, data });
      else if (jobIdOfEvent === jobId) this.#append(data);
    };
    const onJob = (job: Job): void => {
      if (jobId === null) pending.push({ event: 'job', job });
      else if (job.id === jobId) this.#update(job);
    };
    const stops = [api.on('job:output', ({ jobId: id, data }) => onOutput(id, data)), api.on('job:updated', onJob)];
    this.#unsubscribe = () => stops.forEach((stop) => stop());

    const { stopStrings, ...numbers } = this.sampling;
    const stopList = stopStrings
      .split('\n')
      .map((line) => line.replace(/\\n/g, '\n'))
      .filter((line) => line !== '');
    const params: ModelGenerateParams = {
      model: this.modelId,
      prompts: [this.prompt],
      chat: this.chat,
      // An emptied number field binds as null: leave that setting to the engine's default.
      ...Object.fromEntries(Object.entries(numbers).filter(([, value]) => Number.isFinite(value))),
      ...(stopList.length > 0 ? { stopStrings: stopList } : {}),
    };
    const result = await api.invoke('job:start', { kind: 'model.generate', params });
    this.starting = false;
    if (!result.ok) {
      this.#stopListening();
      this.error = result.error;
      return;
    }
    jobId = result.value.id;
    this.jobId = jobId;
    this.status = result.value.status;
    for (const item of pending) {
      if (item.event === 'output' && item.jobId === jobId) this.#append(item.data);
      else if (item.event === 'job' && item.job.id === jobId) this.#update(item.job);
    }
  }

  /** Cancels the running generation; the text so far stays. */
  async stop(): Promise<void> {
    if (this.jobId === null || !this.running) return;
    this.stopping = true;
    const result = await api.invoke('job:cancel', { id: this.jobId });
    this.stopping = false;
    if (!result.ok && result.error.code !== 'job_not_cancellable') this.error = result.error;
  }

  #append(data: unknown): void {
    if (!isTokenOutput(data) || data.row !== 0) return;
    this.tokens++;
    this.text += data.text;
  }

  #update(job: Job): void {
    this.status = job.status;
    if (job.status === 'queued' || job.status === 'running') return;
    this.#stopListening();
    if (job.status === 'succeeded') {
      const result = job.result as ModelGenerateResult | undefined;
      const completion = result?.completions[0];
      // The final text is authoritative (a stop string's prefix is held back while streaming).
      if (completion) this.text = completion.text;
      if (result) {
        this.summary = {
          tokens: result.tokens,
          seconds: result.seconds,
          tokensPerSecond: result.tokensPerSecond,
          finishReason: completion?.finishReason ?? 'length',
        };
      }
    } else if (job.status === 'failed' && job.error) {
      this.error = job.error as AppError;
    }
  }

  #stopListening(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }
}

export const playground = new PlaygroundState();

/**
 * The Compare view's state: the evaluations on disk (eval:list), the form that launches an
 * `eval.run` job (runs expanded to their base and iteration checkpoints, extra models, the prompt
 * source, the judge, samples), the evaluation opened (eval:get, responses left out) and the
 * responses behind a clicked chart mark (eval:responses, paged).
 */
import type {
  EvalResponsesRequest,
  EvalResponsesResponse,
  EvalRunParams,
  EvalRunResult,
  EvaluationCheckpointSpec,
  EvaluationMeta,
  EvaluationResult,
} from '../../../src-main/api/eval.js';
import type { RunDetail } from '../../../src-main/api/runs.js';
import type { Job, PairSetEntry } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { catalog } from './catalog.svelte.js';
import { jobs } from './jobs.svelte.js';
import { Resource } from './resource.svelte.js';

/** A run's checkpoints in order: its base model, then the model of each finished iteration (0 is the seed warm start). */
export function runCheckpoints(run: RunDetail): EvaluationCheckpointSpec[] {
  const base: EvaluationCheckpointSpec = { label: 'base', modelId: run.config.baseModelId, method: 'base' };
  const iterations = run.iterations.flatMap((iteration) =>
    iteration.modelId === null
      ? []
      : [
          {
            label: `${run.config.name} ${iteration.iteration === 0 ? 'seed' : `iter-${iteration.iteration}`}`,
            modelId: iteration.modelId,
            method: run.config.method,
            runId: run.id,
          },
        ],
  );
  return [base, ...iterations];
}

/** The checkpoints of the chosen runs (a base model once) and models, in the order chosen. */
export function chosenCheckpoints(
  runs: readonly RunDetail[],
  models: readonly { id: string; name: string }[],
): EvaluationCheckpointSpec[] {
  const chosen: EvaluationCheckpointSpec[] = [];
  const add = (checkpoint: EvaluationCheckpointSpec) => {
    if (!chosen.some((existing) => existing.modelId === checkpoint.modelId)) chosen.push(checkpoint);
  };
  runs.flatMap(runCheckpoints).forEach(add);
  models.forEach((model) => add({ label: model.name, modelId: model.id, method: 'model' }));
  return chosen;
}

/** What a click on a chart asks for, and the title of the panel that shows it. */
export interface ResponseQuery {
  title: string;
  request: Omit<EvalResponsesRequest, 'id'>;
}

const PAGE = 20;

export class CompareState {
  readonly evaluations = new Resource<EvaluationMeta[]>(() => api.invoke('eval:list', {}));
  readonly pairSets = new Resource<PairSetEntry[]>(() => api.invoke('pairset:list', {}));

  // The form.
  runIds: string[] = $state([]);
  modelIds: string[] = $state([]);
  promptKind: 'pair-set' | 'sim' = $state('pair-set');
  pairSet = $state('');
  promptCount = $state(32);
  /** 'gold', or a reward model's id. */
  reward = $state('gold');
  samples = $state(4);
  maxNewTokens = $state(48);
  title = $state('');
  runDetails: Record<string, RunDetail> = $state({});
  formError: AppError | null = $state.raw(null);
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);

  // The evaluation opened.
  opened: { meta: EvaluationMeta; result: EvaluationResult } | null = $state.raw(null);
  openError: AppError | null = $state.raw(null);
  /** The checkpoint win rates are read against. */
  opponent = $state(0);

  // The responses panel.
  query: ResponseQuery | null = $state.raw(null);
  responses: EvalResponsesResponse | null = $state.raw(null);
  responsesError: AppError | null = $state.raw(null);
  offset = $state(0);

  readonly checkpoints = $derived(
    chosenCheckpoints(
      this.runIds.flatMap((id) => (this.runDetails[id] ? [this.runDetails[id]] : [])),
      this.modelIds.map((id) => ({ id, name: catalog.models.value?.find((model) => model.id === id)?.name ?? id })),
    ),
  );

  async load(): Promise<void> {
    await Promise.all([this.evaluations.load(), this.pairSets.load()]);
    if (this.pairSet === '') this.pairSet = this.pairSets.value?.[0]?.id ?? '';
  }

  async toggleRun(id: string, on: boolean): Promise<void> {
    this.runIds = on ? [...this.runIds.filter((item) => item !== id), id] : this.runIds.filter((item) => item !== id);
    if (on && !this.runDetails[id]) {
      const result = await api.invoke('run:get', { id });
      if (result.ok) this.runDetails = { ...this.runDetails, [id]: result.value };
      else this.formError = result.error;
    }
  }

  toggleModel(id: string, on: boolean): void {
    this.modelIds = on
      ? [...this.modelIds.filter((item) => item !== id), id]
      : this.modelIds.filter((item) => item !== id);
  }

  params(): EvalRunParams {
    return {
      checkpoints: this.checkpoints,
      prompts:
        this.promptKind === 'sim'
          ? { kind: 'sim', count: this.promptCount }
          : { kind: 'pair-set', pairSet: this.pairSet, count: this.promptCount },
      reward: this.reward === 'gold' ? { kind: 'gold' } : { kind: 'reward-model', modelId: this.reward },
      settings: { samples: this.samples, sampling: { maxNewTokens: this.maxNewTokens } },
      ...(this.title.trim() !== '' ? { title: this.title.trim() } : {}),
    };
  }

  async launch(): Promise<void> {
    this.formError = null;
    const result = await api.invoke('job:start', { kind: 'eval.run', params: this.params() });
    if (!result.ok) {
      this.formError = result.error;
      return;
    }
    this.jobId = result.value.id;
  }

  /** Called when the launched job ends: reloads the list and opens the new evaluation. */
  async finished(job: Job): Promise<void> {
    await this.evaluations.load();
    if (job.status === 'succeeded') await this.open((job.result as EvalRunResult).id);
  }

  async open(id: string): Promise<void> {
    const result = await api.invoke('eval:get', { id });
    if (!result.ok) {
      this.openError = result.error;
      return;
    }
    this.openError = null;
    this.opened = result.value;
    this.opponent = 0;
    this.close();
  }

  async show(query: ResponseQuery): Promise<void> {
    this.query = query;
    this.offset = 0;
    await this.page(0);
  }

  async page(offset: number): Promise<void> {
    if (!this.opened || !this.query) return;
    const result = await api.invoke('eval:responses', {
      ...this.query.request,
      id: this.opened.meta.id,
      offset,
      limit: PAGE,
    });
    if (result.ok) {
      this.responses = result.value;
      this.responsesError = null;
      this.offset = offset;
    } else {
      this.responsesError = result.error;
    }
  }

  get pageSize(): number {
    return PAGE;
  }

  close(): void {
    this.query = null;
    this.responses = null;
    this.responsesError = null;
  }
}

export const compare = new CompareState();

/**
 * The New run form: method, base model, pair set and every setting of RunConfig (defaults from
 * runs-config.ts), launched as a `run.train` job.
 */
import type { PreferenceMethod, RunTrainParams } from '../../../src-main/api/runs.js';
import type { Job } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import {
  RUN_FIELDS,
  buildRunConfig,
  defaultValues,
  fieldApplies,
  fieldProblem,
  type FieldValue,
} from './runs-config.js';

export class RunFormState {
  name = $state('');
  method: PreferenceMethod = $state('drift');
  baseModelId = $state('');
  pairSet = $state('');
  judgeModelId = $state('');
  /** Every setting by its RunConfig path; a cleared number field is null. */
  values: Record<string, FieldValue | null> = $state(defaultValues());
  launching = $state(false);
  error: AppError | null = $state.raw(null);

  /** The name the run gets when the field is left empty. */
  readonly effectiveName: string = $derived(
    this.name.trim() || [this.method, this.pairSet.replace(/@v\d+$/, '')].filter(Boolean).join('-'),
  );

  /** What stops a launch, in words; empty when the form is ready. */
  readonly problems: string[] = $derived.by(() => {
    const problems: string[] = [];
    if (this.baseModelId === '') problems.push('Choose a base model.');
    if (this.pairSet === '') problems.push('Choose a pair set.');
    const values = this.values as Record<string, FieldValue>;
    for (const one of RUN_FIELDS) {
      if (!fieldApplies(one, this.method, values)) continue;
      const problem = fieldProblem(one, this.values[one.path]);
      if (problem) problems.push(problem);
    }
    if (this.method === 'iterdpo' && this.values['judge.kind'] === 'reward-model' && this.judgeModelId === '') {
      problems.push('Choose the reward model that judges the candidates.');
    }
    return problems;
  });

  resetSettings(): void {
    this.values = defaultValues();
  }

  /** Starts the run's job; resolves with it, or null with `error` set. */
  async launch(): Promise<Job | null> {
    if (this.problems.length > 0 || this.launching) return null;
    this.launching = true;
    this.error = null;
    const config = buildRunConfig({
      name: this.effectiveName,
      method: this.method,
      baseModelId: this.baseModelId,
      pairSet: this.pairSet,
      judgeModelId: this.judgeModelId,
      values: this.values,
    });
    const params: RunTrainParams = { config };
    const result = await api.invoke('job:start', { kind: 'run.train', params });
    this.launching = false;
    if (!result.ok) {
      this.error = result.error;
      return null;
    }
    return result.value;
  }
}

export const runForm = new RunFormState();

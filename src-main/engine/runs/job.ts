/**
 * The `run.train` job (worker side): a preference run, phase by phase (drift-paper.md §1.2):
 *
 *   phase 0 (seed)   DPO on the pair set's seed pairs from the base model, reference = the base model
 *   phase k ≥ 1      pairs of iteration k from π(k−1) (recipes.ts), reference = π(k−1) frozen
 *                    (its log-probs computed once, before training), `iterationEpochs` from π(k−1)
 *
 * Each phase: generate → reference → train (a metrics row per step, checkpoints) → evaluate on the
 * held-out split (an eval row) → save the policy as iter-<k>/model and as a workspace model, and
 * tell the host (`phase-finished`), which registers it. The run's folder is described in files.ts.
 *
 * Resuming (`{runId, resume: true}`) continues from the last complete thing: finished phases whose
 * model folders verify are skipped; a phase in training restores its newest valid checkpoint (the
 * weights, the optimizer and the trainer's position) after recomputing the same reference
 * log-probs; pairs are regenerated (identically: sampling is seeded) unless the iteration's
 * pairs.jsonl was written; metrics and samples rows past that point are dropped first. A resumed
 * run therefore writes the rows and weights an uninterrupted one writes.
 *
 * Stopping: the job checks between batches and steps for its cancellation (the host's job:cancel)
 * and for stop-request.json (a pause or cancel asked by another process); either way it saves a
 * checkpoint of the step it reached, marks the run paused or cancelled, and ends cancelled.
 */
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  AppFailure,
  RunMetricRow,
  RunSampleRow,
  RunTrainParams,
  type PreferenceHyperparameters,
  type RunConfig,
  type RunIterationSummary,
  type RunJobOutput,
  type RunPairRow,
  type RunPhase,
  type RunTrainResult,
} from '../../api/index.js';
import type { JobContext, JobHandler } from '../jobs/types.js';
import type { CausalLanguageModel, ModelConfig } from '../model/index.js';
import { createGenerationPool, loadHfModel, readModelConfig, saveHfModel } from '../model/index.js';
import { threadCount } from '../compute/threads.js';
import { inspectModelFolder, newModelId, resolveModelFolder, tokenizerFiles } from '../model/store.js';
import type { Tokenizer } from '../text/index.js';
import { renderPromptAndCompletion, loadOptionalTokenizer } from '../text/index.js';
import type { LoadedCheckpoint } from '../train/checkpoint.js';
import {
  CHECKPOINTS_FOLDER,
  TRAINER_STATE_FILE,
  cleanStaleStaging,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from '../train/checkpoint.js';
import { trainingChatFormat } from '../train/data.js';
import type { CompletionLogProbs, PreferenceExample, PreferencePair } from '../train/preference/index.js';
import {
  PreferenceTrainer,
  PreferenceTrainerStateSchema,
  completionLogProbs,
  evaluatePreferenceSummary,
  lossOptionsOf,
  sequenceLogProbs,
  tokenizePreferencePairs,
} from '../train/preference/index.js';
import { loadRewardModel } from '../eval/reward-model.js';
import { APP_VERSION } from '../version.js';
import { appendJsonLine, errorCode, fsyncFolder, removeStaleTemps } from '../workspace/atomic.js';
import { modelDir, runDir } from '../workspace/layout.js';
import {
  METRICS_FILE,
  MODEL_FOLDER,
  PAIRS_FILE,
  RUN_FORMAT_VERSION,
  SAMPLES_FILE,
  appendRows,
  clearStopRequest,
  filterRows,
  iterationDir,
  readMetricRows,
  readPairRows,
  readRunFile,
  readStopRequest,
  writeRowsAtomic,
  writeRunFile,
  type RunFile,
  type StopRequest,
} from './files.js';
import type { RunRecord } from './recipes.js';
import { buildIterationPairs, seedPairs } from './recipes.js';
import { readRunRecords, resolvePairSetOnDisk } from './records.js';
import { derivedSeed, samplePolicy } from './sampling.js';

/** Pairs whose reference log-probs are computed between two turns of the event loop (so a cancel is seen). */
const REFERENCE_CHUNK_BATCHES = 8;
/** Checkpoints kept on disk (the newest; each phase's last is kept until the next phase writes). */
const KEEP_CHECKPOINTS = 2;

/** What a checkpoint of a run stores besides the trainer (its trainer_state.json). */
interface RunCheckpointState {
  runId: string;
  iteration: number;
  /** Optimizer steps of the run's earlier phases (the checkpoint's step is theirs plus the trainer's). */
  stepsBefore: number;
  trainer: unknown;
}

/** One phase of a run's plan. */
interface PhasePlan {
  iteration: number;
  /** Seed pairs (the warm start and offline DPO) rather than sampled ones. */
  offline: boolean;
  epochs: number;
  /** The phase before it in the plan (its model is this phase's start), or null: the base model. */
  previous: number | null;
}

export const trainRun: JobHandler = async (params, context) => {
  const parsed = RunTrainParams.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  const session =
    'config' in parsed.data ? await createRun(parsed.data, context) : await reopenRun(parsed.data.runId, context);
  return session.execute();
};

/** The phases of a run: the seed warm start (unless off, or offline DPO), then iterations 1..K. */
export function planPhases(config: RunConfig): PhasePlan[] {
  const { method, iterations, seedWarmStart, hyperparameters } = config;
  const phases: PhasePlan[] = [];
  if (seedWarmStart && method !== 'dpo' && hyperparameters.seedEpochs > 0) {
    phases.push({ iteration: 0, offline: true, epochs: hyperparameters.seedEpochs, previous: null });
  }
  for (let iteration = 1; iteration <= iterations; iteration++) {
    phases.push({
      iteration,
      offline: method === 'dpo',
      epochs: hyperparameters.iterationEpochs,
      previous: phases.at(-1)?.iteration ?? null,
    });
  }
  return phases;
}

/** The deviations from the paper (and other things a reader of the run should know), for run.json's notes. */
export function deviationNotes(config: RunConfig): string[] {
  const { hyperparameters: h, generation: g, method } = config;
  const notes = [
    'Training prompts are the context in the model’s chat template with the generation prompt; completions end ' +
      'with its end-of-turn token (drift-paper.md §1.4 option b), not the alignment-handbook’s layout.',
    'Reference log-probs are computed once per phase from the frozen starting policy (TRL precompute_ref_log_probs).',
    `The held-out split is the first min(testSize ${config.testSize}, ⌊${config.testFraction} × pairs⌋) pairs of ` +
      'each phase, not shuffled (gen-drift.py: the first 100).',
  ];
  if (h.learningRate !== 5e-7) notes.push(`learning rate ${h.learningRate} (paper: 5e-7 for 7B/14B models).`);
  if (h.maxLength !== 2048 || h.maxPromptLength !== 1024) {
    notes.push(`max length ${h.maxLength} / prompt ${h.maxPromptLength} tokens (paper: 2048 / 1024).`);
  }
  if (method !== 'dpo') {
    notes.push(
      'Samples are seeded by (seed, iteration, draw, batch), so a re-run regenerates the same pairs; gen-drift.py ' +
        'sets no generation seed.',
      'A generation prompt longer than the context keeps its end (the instruction); gen-drift.py truncates the ' +
        'right side at 2048 tokens.',
    );
    if (g.maxNewTokens !== 512) notes.push(`max new tokens ${g.maxNewTokens} (paper: 512).`);
    if (g.temperature !== 0.7 || g.topP !== 0.9)
      notes.push(`sampling T ${g.temperature}, top-p ${g.topP} (paper: 0.7, 0.9).`);
  }
  if (method === 'drift' && !g.guided) {
    notes.push('Unguided ablation: y⁺ is sampled from the chat-templated context, without y⁻ and the feedback.');
  }
  if (method === 'drift' && g.samples > 1) {
    notes.push(`${g.samples} samples per prompt, kept by "${g.selection}" (paper: one sample, no selection).`);
  }
  if (method === 'spin') {
    notes.push(
      'SPIN’s real SAT answers are the pair set’s seed pairs’ chosen answers (the later answer in the log that drew ' +
        'SAT), so SPIN trains on the seed pairs’ contexts; rejected = an unguided sample of π(k−1).',
    );
  }
  if (method === 'iterdpo') {
    notes.push(
      `IterDPO: ${config.candidates} candidates per prompt, the first from the guided prompt and the rest from the ` +
        'plain one (drift-paper.md §2 [I]); ' +
        (config.judge.kind === 'likelihood'
          ? 'judged by π(k−1)’s mean per-token log-prob of the answer given the context (the paper’s judge is unknown).'
          : `judged by the reward model ${config.judge.modelId}.`),
    );
  }
  if (method === 'dpo') {
    notes.push(
      'Offline DPO: no warm start; each iteration trains iterationEpochs more on the seed pairs from π(k−1) with the ' +
        'base model as reference, and its learning-rate schedule restarts each iteration.',
    );
  } else if (config.seedWarmStart && method !== 'drift') {
    notes.push('The seed warm start for the baselines is inferred (drift-paper.md §1.5 [U]).');
  }
  return notes;
}

async function createRun(
  request: { config: RunConfig; runId?: string | undefined },
  context: JobContext,
): Promise<RunSession> {
  const config = request.config;
  await checkJudge(config, context.workspaceDir);
  if (planPhases(config).length === 0) {
    throw new AppFailure('job_invalid_params', 'The run has nothing to train: no warm start and 0 iterations.');
  }
  const pairSet = await resolvePairSetOnDisk(context.workspaceDir, config.pairSet);
  const baseFolder = resolveModelFolder(context.workspaceDir, config.baseModelId);
  const { summary: baseSummary } = await inspectModelFolder(baseFolder).catch((error: unknown) => {
    throw errorCode(error) === 'ENOENT' || (error instanceof AppFailure && error.code === 'model_folder_invalid')
      ? new AppFailure('not_found', `No model ${config.baseModelId} in this workspace (${baseFolder}).`)
      : error;
  });
  if (baseSummary.role === 'reward') {
    throw new AppFailure(
      'job_invalid_params',
      `${config.baseModelId} is a reward model; a run trains a policy (a causal language model).`,
    );
  }
  const { records, rejected } = await readRunRecords(context.workspaceDir, pairSet.entry, config.maxRecords);
  checkRecords(config, records);

  const runId = await reserveRunFolder(context.workspaceDir, request.runId, config.name);
  const now = new Date().toISOString();
  const first = planPhases(config)[0] as PhasePlan;
  const notes = deviationNotes(config);
  if (rejected > 0) notes.push(`${rejected} pairs a curator rejected were left out.`);
  if (config.method === 'dpo' && config.seedWarmStart) notes.push('seedWarmStart does not apply to offline DPO.');
  const run: RunFile = {
    formatVersion: RUN_FORMAT_VERSION,
    kind: 'preference',
    id: runId,
    config: { ...config, pairSet: pairSet.entry.id },
    status: 'running',
    jobId: context.jobId,
    createdAt: now,
    updatedAt: now,
    position: { iteration: first.iteration, phase: first.iteration === 0 ? 'seed' : 'generate', step: 0 },
    iterations: [],
    notes,
    environment: {
      backend: context.backend.name,
      tfjsVersion: context.backend.tfjsVersion,
      engineVersion: APP_VERSION,
      seed: String(config.seed),
      node: process.versions.node,
    },
    error: null,
    datasetId: pairSet.entry.datasetId,
    pairSetChecksum: pairSet.entry.checksum,
  };
  const session = new RunSession(context, run, records, false);
  await session.persist();
  return session;
}

async function reopenRun(runId: string, context: JobContext): Promise<RunSession> {
  const folder = runDir(context.workspaceDir, runId);
  const run = await readRunFile(folder);
  if (run === null) throw new AppFailure('not_found', `No preference run ${runId} in this workspace.`);
  if (run.status === 'succeeded' || run.status === 'cancelled') {
    throw new AppFailure('run_state_conflict', `Run ${runId} has ${run.status}; it cannot be resumed.`, {
      status: run.status,
    });
  }
  await checkJudge(run.config, context.workspaceDir);
  const pairSet = await resolvePairSetOnDisk(context.workspaceDir, run.config.pairSet);
  if (pairSet.entry.checksum !== run.pairSetChecksum) {
    throw new AppFailure(
      'checkpoint_config_mismatch',
      `Pair set ${pairSet.entry.id} changed since run ${runId} started; start a new run.`,
    );
  }
  const { records } = await readRunRecords(context.workspaceDir, pairSet.entry, run.config.maxRecords);
  await clearStopRequest(folder);
  run.status = 'running';
  run.jobId = context.jobId;
  run.error = null;
  const session = new RunSession(context, run, records, true);
  await session.persist();
  return session;
}

/** Whether the run's samples are ranked by its judge (IterDPO, or several samples kept by judge-best). */
function judged(config: RunConfig): boolean {
  return config.method === 'iterdpo' || (config.generation.samples > 1 && config.generation.selection === 'judge-best');
}

/** A reward-model judge must be a workspace model folder (its head is checked when it loads). */
async function checkJudge(config: RunConfig, workspaceDir: string): Promise<void> {
  if (!judged(config) || config.judge.kind !== 'reward-model') return;
  const folder = resolveModelFolder(workspaceDir, config.judge.modelId);
  try {
    await stat(folder);
  } catch {
    throw new AppFailure('not_found', `No reward model ${config.judge.modelId} in this workspace (${folder}).`);
  }
}

function checkRecords(config: RunConfig, records: readonly RunRecord[]): void {
  const seeds = records.filter((record) => record.chosen !== null).length;
  const needsSeeds = config.method === 'spin' || config.method === 'dpo' || planPhases(config)[0]?.iteration === 0;
  if (records.length === 0) throw new AppFailure('training_data_invalid', 'The pair set has no usable pairs.');
  if (needsSeeds && seeds === 0) {
    throw new AppFailure(
      'training_data_invalid',
      `The pair set has no seed pairs (with a chosen answer), which ${
        config.method === 'spin' || config.method === 'dpo' ? config.method : 'the seed warm start'
      } trains on; freeze a set with seed pairs or turn the warm start off.`,
    );
  }
}

/** Creates `<workspace>/runs/<id>` exclusively: the given id, or one made from the name. */
async function reserveRunFolder(workspaceDir: string, requested: string | undefined, name: string): Promise<string> {
  await mkdir(path.dirname(runDir(workspaceDir, 'x')), { recursive: true });
  const base = requested ?? slug(name);
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      await mkdir(runDir(workspaceDir, id));
      return id;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      if (requested !== undefined) {
        throw new AppFailure('run_exists', `The run ${id} already exists; resume it or pick another id.`, {
          runId: id,
        });
      }
    }
  }
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9._]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 80) || 'run'
  );
}

/** A run being worked on by this job. */
class RunSession {
  private readonly folder: string;
  private readonly checkpoints: string;
  private readonly config: RunConfig;
  private readonly hyperparameters: PreferenceHyperparameters;
  private stopAction: StopRequest['action'] | null = null;
  private tokenizer!: Tokenizer;

  constructor(
    private readonly context: JobContext,
    private readonly run: RunFile,
    private readonly records: readonly RunRecord[],
    private readonly resumed: boolean,
  ) {
    this.folder = runDir(context.workspaceDir, run.id);
    this.checkpoints = path.join(this.folder, CHECKPOINTS_FOLDER);
    this.config = run.config;
    this.hyperparameters = run.config.hyperparameters;
  }

  async persist(): Promise<void> {
    this.run.updatedAt = new Date().toISOString();
    await writeRunFile(this.folder, this.run);
  }

  async execute(): Promise<RunTrainResult> {
    try {
      const tokenizer = await loadOptionalTokenizer(this.baseFolder());
      if (tokenizer === null) {
        throw new AppFailure(
          'model_tokenizer_missing',
          `${this.baseFolder()} has no tokenizer to tokenize pairs with.`,
        );
      }
      this.tokenizer = tokenizer;
      const phases = planPhases(this.config);
      const resume = await this.prepareResume(phases);
      this.emit({
        type: 'run-started',
        runId: this.run.id,
        resumed: this.resumed,
        metricRows: resume.metricRows,
      });
      for (const phase of phases) {
        if (this.finished(phase.iteration) !== undefined) continue;
        await this.runPhase(phase, resume.checkpoint?.iteration === phase.iteration ? resume.checkpoint.loaded : null);
      }
      this.run.status = 'succeeded';
      this.run.jobId = null;
      this.run.position = { ...this.run.position, phase: 'done' };
      await this.persist();
      return {
        runId: this.run.id,
        status: 'succeeded',
        iterations: this.run.iterations,
        modelIds: this.run.iterations.flatMap((summary) => (summary.modelId === null ? [] : [summary.modelId])),
      };
    } catch (error) {
      await this.settleAfter(error);
      throw error;
    }
  }

  /** Records how the run stopped: paused or cancelled when asked to, failed otherwise. */
  private async settleAfter(error: unknown): Promise<void> {
    const cancelled = error instanceof AppFailure && error.code === 'job_cancelled';
    if (cancelled) {
      const action = this.stopAction ?? (await readStopRequest(this.folder))?.action ?? 'pause';
      this.run.status = action === 'cancel' ? 'cancelled' : 'paused';
      this.run.error = null;
    } else {
      this.run.status = 'failed';
      this.run.error = error instanceof Error ? error.message : String(error);
    }
    this.run.jobId = null;
    await this.persist().catch(() => undefined);
  }

  /**
   * Before resuming: checks finished phases (a phase whose model does not verify is redone, and
   * every phase after it), finds the checkpoint of the first unfinished phase, and drops the
   * metrics and samples rows written past it.
   */
  private async prepareResume(
    phases: readonly PhasePlan[],
  ): Promise<{ metricRows: number; checkpoint: { iteration: number; loaded: LoadedCheckpoint } | null }> {
    if (!this.resumed) return { metricRows: 0, checkpoint: null };
    const leftovers = await this.removeLeftovers();
    if (leftovers > 0) this.run.notes.push(`Removed ${leftovers} unfinished files of the interrupted job.`);
    const kept: RunIterationSummary[] = [];
    for (const phase of phases) {
      const summary = this.run.iterations.find((item) => item.iteration === phase.iteration);
      if (summary === undefined || summary.finishedAt === null) break;
      const problem = await inspectModelFolder(this.modelFolder(phase.iteration)).then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      if (problem !== null) {
        this.run.notes.push(`The model of phase ${phase.iteration} did not verify (${problem}); redoing it.`);
        break;
      }
      kept.push(summary);
    }
    // A pending summary (model id reserved, not finished) of the next phase is kept: its id is reused.
    const next = phases.find((phase) => !kept.some((summary) => summary.iteration === phase.iteration));
    const pending = this.run.iterations.find(
      (summary) => summary.iteration === next?.iteration && summary.finishedAt === null,
    );
    this.run.iterations = pending ? [...kept, pending] : kept;
    if (next === undefined) return { metricRows: await this.countMetricRows(), checkpoint: null };

    const removed = await cleanStaleStaging(this.checkpoints);
    if (removed.length > 0) this.run.notes.push(`Removed ${removed.length} unfinished checkpoint files.`);
    let checkpoint: { iteration: number; loaded: LoadedCheckpoint } | null = null;
    const search = await findLatestCheckpoint(this.checkpoints);
    if (search.checkpoint !== null) {
      const state = JSON.parse(
        await readFile(path.join(search.checkpoint.folder, TRAINER_STATE_FILE), 'utf8'),
      ) as Partial<RunCheckpointState>;
      if (state.runId === this.run.id && state.iteration === next.iteration) {
        // The run never resumes into another architecture than its base model's (STYLE.md §7).
        const loaded = await loadCheckpoint(search.checkpoint, await readModelConfig(this.baseFolder()));
        checkpoint = { iteration: next.iteration, loaded };
      }
    }
    const resumeStep = checkpoint?.loaded.step ?? null;
    const pairsDone = await this.completePairs(next.iteration);
    await filterRows(
      path.join(this.folder, METRICS_FILE),
      RunMetricRow,
      (row) =>
        row.iteration < next.iteration ||
        (row.iteration === next.iteration && row.type === 'train' && resumeStep !== null && row.step <= resumeStep),
    );
    await filterRows(
      path.join(this.folder, SAMPLES_FILE),
      RunSampleRow,
      (row) => row.iteration < next.iteration || (row.iteration === next.iteration && pairsDone !== null),
    );
    // Later iterations' folders can only be left by a phase that is being redone.
    for (const name of await readdir(this.folder)) {
      const later = /^iter-(\d+)$/.exec(name);
      if (later && Number(later[1]) > next.iteration)
        await rm(path.join(this.folder, name), { recursive: true, force: true });
    }
    if (resumeStep !== null) this.run.notes.push(`Resumed phase ${next.iteration} at step ${resumeStep}.`);
    else this.run.notes.push(`Resumed at the start of phase ${next.iteration}.`);
    await this.persist();
    return { metricRows: await this.countMetricRows(), checkpoint };
  }

  /**
   * Removes what a killed job left: temp files of its atomic writes in the run's folders (those
   * of dead processes), the staging and replaced folders of a phase model's save, and the staging
   * folders of the run's models' links in the workspace (only this run's job writes either).
   * Returns how many entries were removed.
   */
  private async removeLeftovers(): Promise<number> {
    let removed = (await removeStaleTemps(this.folder)).length;
    const modelsFolder = path.dirname(modelDir(this.context.workspaceDir, 'x'));
    const modelIds = this.run.iterations.flatMap((summary) => (summary.modelId === null ? [] : [summary.modelId]));
    const folders: [string, (name: string) => boolean][] = [
      [modelsFolder, (name) => modelIds.some((id) => name.startsWith(`.staging-${id}-`))],
    ];
    for (const name of await readdir(this.folder)) {
      if (!/^iter-\d+$/.test(name)) continue;
      const folder = path.join(this.folder, name);
      removed += (await removeStaleTemps(folder)).length;
      folders.push([folder, (entry) => /^\.model\.(staging|replaced)-/.test(entry)]);
    }
    for (const [folder, stale] of folders) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        throw error;
      }
      for (const name of names.filter(stale)) {
        await rm(path.join(folder, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  private async countMetricRows(): Promise<number> {
    return (await readMetricRows(this.folder)).length;
  }

  private finished(iteration: number): RunIterationSummary | undefined {
    return this.run.iterations.find((summary) => summary.iteration === iteration && summary.finishedAt !== null);
  }

  private baseFolder(): string {
    return resolveModelFolder(this.context.workspaceDir, this.config.baseModelId);
  }

  private modelFolder(iteration: number): string {
    return path.join(iterationDir(this.folder, iteration), MODEL_FOLDER);
  }

  private startFolder(phase: PhasePlan): string {
    return phase.previous === null ? this.baseFolder() : this.modelFolder(phase.previous);
  }

  private referenceFolder(phase: PhasePlan): string {
    return this.config.method === 'dpo' ? this.baseFolder() : this.startFolder(phase);
  }

  private label(iteration: number): string {
    return iteration === 0 ? 'seed' : `iteration ${iteration}`;
  }

  private emit(output: RunJobOutput): void {
    this.context.output(output);
  }

  /** Throws job_cancelled when the job was cancelled or another process asked the run to stop. */
  private async checkStop(): Promise<void> {
    if (this.context.signal.aborted) throw new AppFailure('job_cancelled');
    const request = await readStopRequest(this.folder);
    if (request !== null) {
      this.stopAction = request.action;
      throw new AppFailure('job_cancelled', `The run was asked to ${request.action}.`);
    }
  }

  private async setPosition(iteration: number, phase: RunPhase, step: number): Promise<void> {
    this.run.position = { iteration, phase: iteration === 0 && phase !== 'done' ? 'seed' : phase, step };
    await this.persist();
  }

  private stepsBefore(iteration: number): number {
    return this.run.iterations
      .filter((summary) => summary.iteration < iteration && summary.finishedAt !== null)
      .reduce((sum, summary) => sum + summary.steps, 0);
  }

  /** The iteration's pairs if its pairs.jsonl was written (it is written whole), else null. */
  private async completePairs(iteration: number): Promise<RunPairRow[] | null> {
    const file = path.join(iterationDir(this.folder, iteration), PAIRS_FILE);
    try {
      await stat(file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
    return readPairRows(this.folder, iteration);
  }

  private async runPhase(phase: PhasePlan, checkpoint: LoadedCheckpoint | null): Promise<void> {
    const { iteration } = phase;
    const label = this.label(iteration);
    const stepsBefore = this.stepsBefore(iteration);
    const h = this.hyperparameters;
    await this.setPosition(iteration, 'generate', stepsBefore);
    this.context.progress(`${label}: loading`, 0, 1);
    let policy: CausalLanguageModel = await loadHfModel(this.startFolder(phase));
    let trainer: PreferenceTrainer | undefined;
    try {
      const pairs = (await this.completePairs(iteration)) ?? (await this.makePairs(phase, policy));
      const padId = this.tokenizer.specialTokens.pad?.id ?? this.tokenizer.specialTokens.eos?.id ?? 0;
      const limits = this.limits(policy.config);
      const train = this.tokenize(
        pairs.filter((pair) => pair.split === 'train'),
        limits,
        iteration,
      );
      const test = this.tokenize(
        pairs.filter((pair) => pair.split === 'test'),
        limits,
        iteration,
      );
      if (train.length === 0) {
        throw new AppFailure('training_data_invalid', `Phase ${iteration} has no training pair left after tokenizing.`);
      }

      await this.setPosition(iteration, 'reference', stepsBefore);
      const referenceFolder = this.referenceFolder(phase);
      const reference = referenceFolder === this.startFolder(phase) ? policy : await loadHfModel(referenceFolder);
      let trainReference: CompletionLogProbs;
      let testReference: CompletionLogProbs;
      try {
        trainReference = await this.referenceLogProbs(reference, train, padId, `${label}: reference`);
        testReference = await this.referenceLogProbs(reference, test, padId, `${label}: reference (held out)`);
      } finally {
        if (reference !== policy) reference.dispose();
      }

      if (checkpoint !== null) {
        policy.dispose();
        policy = checkpoint.model;
      }
      trainer = new PreferenceTrainer(policy, train, trainReference, h, {
        epochs: phase.epochs,
        seed: derivedSeed(this.config.seed, iteration),
        padId,
      });
      if (checkpoint !== null) {
        const state = PreferenceTrainerStateSchema.safeParse((checkpoint.trainerState as RunCheckpointState).trainer);
        if (!state.success) {
          throw new AppFailure(
            'checkpoint_invalid',
            `${checkpoint.folder}: its trainer state does not match its schema.`,
          );
        }
        trainer.restore(state.data, checkpoint.optimizer);
      }
      await this.trainLoop(trainer, policy, iteration, stepsBefore);

      await this.setPosition(iteration, 'evaluate', stepsBefore + trainer.step);
      const evaluation =
        test.length > 0
          ? await this.evaluate(policy, test, testReference, phase, stepsBefore + trainer.step, padId)
          : null;
      await this.saveModel(phase, policy, {
        pairs: pairs.length,
        trainPairs: train.length,
        testPairs: test.length,
        steps: trainer.step,
        eval: evaluation,
      });
    } finally {
      trainer?.dispose();
      policy.dispose();
      if (checkpoint !== null && !checkpoint.model.disposed) checkpoint.model.dispose();
    }
  }

  private limits(config: ModelConfig): { maxLength: number; maxPromptLength: number } {
    const maxLength = Math.min(this.hyperparameters.maxLength, config.maxPositionEmbeddings);
    return { maxLength, maxPromptLength: Math.min(this.hyperparameters.maxPromptLength, maxLength - 1) };
  }

  private tokenize(
    rows: readonly RunPairRow[],
    limits: { maxLength: number; maxPromptLength: number },
    iteration: number,
  ): PreferenceExample[] {
    const pairs: PreferencePair[] = rows.map((row) => ({
      id: row.id,
      prompt: row.prompt,
      chosen: row.chosen[0]?.content ?? '',
      rejected: row.rejected[0]?.content ?? '',
    }));
    const { examples, skipped } = tokenizePreferencePairs(pairs, this.tokenizer, limits);
    if (skipped.length > 0) {
      const note = `Phase ${iteration}: ${skipped.length} pairs skipped when tokenizing (${skipped[0]?.reason ?? ''}).`;
      if (!this.run.notes.includes(note)) this.run.notes.push(note);
    }
    return examples;
  }

  /** Samples (or takes the seed pairs of) the phase's pairs and writes iter-<k>/pairs.jsonl in one go. */
  private async makePairs(phase: PhasePlan, policy: CausalLanguageModel): Promise<RunPairRow[]> {
    const { iteration } = phase;
    const label = this.label(iteration);
    let pairs: RunPairRow[];
    if (phase.offline) {
      pairs = seedPairs(this.records, iteration, this.config);
    } else {
      const generation = this.config.generation;
      const judge = this.config.judge;
      // The reward model is loaded for the phase's sampling only, and freed before training.
      const rewardModel =
        judged(this.config) && judge.kind === 'reward-model'
          ? await loadRewardModel(resolveModelFolder(this.context.workspaceDir, judge.modelId), {
              batchSize: this.hyperparameters.batchSize * 2,
            })
          : null;
      // Both cores decode the phase's samples (rows split; the same tokens as one thread).
      const pool = await createGenerationPool(policy);
      try {
        pairs = await buildIterationPairs(this.config, iteration, this.records, {
          sample: (sources, guided, draw, offset) =>
            samplePolicy(policy, this.tokenizer, sources, {
              guided,
              generation,
              seed: this.config.seed,
              iteration,
              draw,
              offset,
              signal: this.context.signal,
              pool,
            }),
          judge: async (records, answers) =>
            rewardModel === null
              ? this.likelihoodJudge(policy, records, answers)
              : rewardModel.scoreResponses(
                  records.map((record) => record.context),
                  answers,
                  this.context.signal,
                ),
          record: async (rows: RunSampleRow[]) => {
            await appendRows(path.join(this.folder, SAMPLES_FILE), rows);
            this.emit({ type: 'run-samples', runId: this.run.id, rows });
          },
          progress: (done, total) =>
            this.context.progress(`${label}: generate`, done, total, `prompts sampled on ${threadCount(pool.threads)}`),
          checkStop: () => this.checkStop(),
        });
      } finally {
        rewardModel?.dispose();
        await pool.close();
      }
    }
    const folder = iterationDir(this.folder, iteration);
    await mkdir(folder, { recursive: true });
    await writeRowsAtomic(path.join(folder, PAIRS_FILE), pairs);
    return pairs;
  }

  /** IterDPO's likelihood judge: π(k−1)'s mean per-token log-prob of each answer given its context. */
  private async likelihoodJudge(
    model: CausalLanguageModel,
    records: readonly RunRecord[],
    answers: readonly string[],
  ): Promise<number[]> {
    const format = trainingChatFormat(this.tokenizer);
    const { maxLength, maxPromptLength } = this.limits(model.config);
    const encode = (text: string) => (text === '' ? [] : this.tokenizer.encode(text, { addSpecialTokens: false }));
    const prompts: number[][] = [];
    const completions: number[][] = [];
    records.forEach((record, index) => {
      const split = renderPromptAndCompletion(record.context, answers[index] ?? '', format);
      const encoded = encode(split.prompt).slice(-maxPromptLength);
      const prompt = encoded.length > 0 ? encoded : [this.tokenizer.specialTokens.eos?.id ?? 0];
      prompts.push(prompt);
      completions.push(encode(split.completion).slice(0, maxLength - prompt.length));
    });
    await yieldToEventLoop();
    const { sums, tokens } = sequenceLogProbs(
      model,
      prompts,
      completions,
      this.hyperparameters.batchSize * 2,
      this.context.signal,
    );
    return Array.from(sums, (sum, index) => sum / Math.max(1, tokens[index] as number));
  }

  /** The frozen model's log-probs of every pair, a few batches between turns of the event loop. */
  private async referenceLogProbs(
    model: CausalLanguageModel,
    examples: readonly PreferenceExample[],
    padId: number,
    phaseLabel: string,
  ): Promise<CompletionLogProbs> {
    const count = examples.length;
    const result: CompletionLogProbs = {
      chosen: new Float64Array(count),
      rejected: new Float64Array(count),
      chosenTokens: new Int32Array(count),
      rejectedTokens: new Int32Array(count),
    };
    const batchSize = this.hyperparameters.batchSize;
    const chunk = batchSize * REFERENCE_CHUNK_BATCHES;
    this.context.progress(phaseLabel, 0, count, 'pairs');
    for (let start = 0; start < count; start += chunk) {
      await yieldToEventLoop();
      await this.checkStop();
      const part = completionLogProbs(
        model,
        examples.slice(start, start + chunk),
        batchSize,
        this.context.signal,
        padId,
      );
      result.chosen.set(part.chosen, start);
      result.rejected.set(part.rejected, start);
      result.chosenTokens.set(part.chosenTokens, start);
      result.rejectedTokens.set(part.rejectedTokens, start);
      this.context.progress(phaseLabel, Math.min(count, start + chunk), count, 'pairs');
    }
    return result;
  }

  /** Steps until the trainer is done: a metrics row per step, checkpoints every checkpointEvery steps and at the end. */
  private async trainLoop(
    trainer: PreferenceTrainer,
    model: CausalLanguageModel,
    iteration: number,
    stepsBefore: number,
  ): Promise<void> {
    const label = `${this.label(iteration)}: train`;
    let saved = trainer.step;
    await this.setPosition(iteration, 'train', stepsBefore + trainer.step);
    this.context.progress(label, trainer.step, trainer.totalSteps, 'steps');
    const checkpoint = async () => {
      const { trainer: state, optimizer } = await trainer.save();
      const trainerState: RunCheckpointState & Record<string, unknown> = {
        runId: this.run.id,
        iteration,
        stepsBefore,
        trainer: state,
        schedule: { ...trainer.schedule, step: state.step },
        hyperparameters: this.hyperparameters,
      };
      await saveCheckpoint(
        this.checkpoints,
        { step: stepsBefore + state.step, model, tokenizer: this.tokenizer, optimizer, trainerState },
        { keep: KEEP_CHECKPOINTS },
      );
      saved = state.step;
      await this.setPosition(iteration, 'train', stepsBefore + state.step);
    };
    try {
      while (!trainer.done) {
        await this.checkStop();
        const metrics = await trainer.trainStep(this.context.signal);
        const row = RunMetricRow.parse({
          type: 'train',
          iteration,
          ...metrics,
          step: stepsBefore + metrics.step,
          time: new Date().toISOString(),
        });
        await appendJsonLine(path.join(this.folder, METRICS_FILE), row);
        this.emit({ type: 'run-metric', runId: this.run.id, row });
        this.context.progress(label, metrics.step, trainer.totalSteps, `loss ${metrics.loss.toFixed(4)}`);
        if (metrics.step % this.config.checkpointEvery === 0 || trainer.done) await checkpoint();
      }
      if (saved !== trainer.step) await checkpoint();
    } catch (error) {
      // A stop lands between steps (or leaves the step untaken): keep the steps made since the last checkpoint.
      if (error instanceof AppFailure && error.code === 'job_cancelled' && trainer.step > saved) await checkpoint();
      throw error;
    }
  }

  /** The held-out metrics of the trained policy (an eval row), against the phase's frozen reference. */
  private async evaluate(
    model: CausalLanguageModel,
    examples: readonly PreferenceExample[],
    reference: CompletionLogProbs,
    phase: PhasePlan,
    step: number,
    padId: number,
  ): Promise<Record<string, number>> {
    this.context.progress(`${this.label(phase.iteration)}: evaluate`, 0, 1, `${examples.length} held-out pairs`);
    await this.checkStop();
    const started = performance.now();
    const { metrics, gradientWeight } = evaluatePreferenceSummary(model, examples, reference, {
      ...lossOptionsOf(this.hyperparameters),
      rpoAlpha: this.hyperparameters.rpoAlpha,
      batchSize: this.hyperparameters.batchSize,
      signal: this.context.signal,
      padId,
    });
    const value = (key: string) => metrics[key] ?? Number.NaN;
    const row = RunMetricRow.parse({
      type: 'eval',
      iteration: phase.iteration,
      step,
      epoch: phase.epochs,
      loss: value('loss'),
      'rewards/chosen': value('rewards/chosen'),
      'rewards/rejected': value('rewards/rejected'),
      'rewards/margins': value('rewards/margins'),
      'rewards/accuracies': value('rewards/accuracies'),
      'logps/chosen': value('logps/chosen'),
      'logps/rejected': value('logps/rejected'),
      kl: value('kl'),
      gradientWeight,
      seconds: (performance.now() - started) / 1000,
      time: new Date().toISOString(),
    });
    await appendJsonLine(path.join(this.folder, METRICS_FILE), row);
    this.emit({ type: 'run-metric', runId: this.run.id, row });
    this.context.progress(`${this.label(phase.iteration)}: evaluate`, 1, 1);
    return metrics;
  }

  /** Saves the phase's policy as iter-<k>/model, links it into the workspace's models, and marks the phase finished. */
  private async saveModel(
    phase: PhasePlan,
    model: CausalLanguageModel,
    summary: Pick<RunIterationSummary, 'pairs' | 'trainPairs' | 'testPairs' | 'steps' | 'eval'>,
  ): Promise<void> {
    const { iteration } = phase;
    this.context.progress(`${this.label(iteration)}: saving`, 0, 1);
    let entry = this.run.iterations.find((item) => item.iteration === iteration);
    if (entry === undefined) {
      // The id is reserved in run.json first, so a crash before the phase is marked finished reuses it.
      const name = `${this.config.name}-${iteration === 0 ? 'seed' : `iter${iteration}`}`;
      entry = { iteration, ...summary, modelId: await newModelId(this.context.workspaceDir, name), finishedAt: null };
      this.run.iterations.push(entry);
      await this.persist();
    }
    await saveHfModel(model, this.modelFolder(iteration), {
      overwrite: true,
      extraFiles: tokenizerFiles(model.config, this.tokenizer),
    });
    if (entry.modelId !== null) {
      await linkFolder(this.modelFolder(iteration), modelDir(this.context.workspaceDir, entry.modelId));
    }
    Object.assign(entry, summary, { finishedAt: new Date().toISOString() });
    this.run.iterations.sort((a, b) => a.iteration - b.iteration);
    await this.persist();
    this.emit({ type: 'phase-finished', runId: this.run.id, iteration, modelId: entry.modelId });
    this.context.progress(`${this.label(iteration)}: saving`, 1, 1);
  }
}

/**
 * Makes `target` a folder holding `source`'s files: hard links where the file system allows (the
 * run's copy and the workspace model share their bytes; deleting one leaves the other), copies
 * elsewhere. Built beside the target and renamed into place, replacing an older one.
 */
async function linkFolder(source: string, target: string): Promise<void> {
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.staging-${path.basename(target)}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    for (const name of await readdir(source)) {
      await link(path.join(source, name), path.join(staging, name)).catch(() =>
        copyFile(path.join(source, name), path.join(staging, name)),
      );
    }
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    await fsyncFolder(parent);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

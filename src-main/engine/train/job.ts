/**
 * The `model.train-sft` job (worker side): resolves the base model (a workspace model, a folder, or
 * a preset trained from scratch with its own tokenizer), reads and tokenizes the data, and trains
 * with checkpoints in `<workspace>/runs/<runId>/`:
 *
 *   run.json          the run's config: base, data source and fingerprint, model config, hyperparameters
 *   metrics.jsonl     one line per step (loss, grad_norm, learning_rate, tokens/s), append-only
 *   checkpoints/      see checkpoint.ts
 *
 * `resume: true` continues the run from its newest valid checkpoint with the stored config (and
 * starts it when it does not exist yet). The final model is saved as a new HF folder in
 * `<workspace>/models/<id>/`; the host's completion step (completion.ts) adds it and the run to
 * the catalog.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  AppFailure,
  ModelPreset,
  ModelTrainSftParams,
  type ModelTrainSftResult,
  type TrainMetricsOutput,
} from '../../api/index.js';
import type { JobContext, JobHandler } from '../jobs/types.js';
import type { CausalLanguageModel, ModelConfig } from '../model/index.js';
import { createModel, loadHfModel, readModelConfig, saveHfModel } from '../model/index.js';
import { inspectModelFolder, newModelId, resolveModelFolder, tokenizerFiles } from '../model/store.js';
import type { Tokenizer } from '../text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, trainByteLevelBpe, loadOptionalTokenizer } from '../text/index.js';
import { APP_VERSION } from '../version.js';
import { appendJsonLine, errorCode, writeFileAtomic } from '../workspace/atomic.js';
import { modelDir, runDir } from '../workspace/layout.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import {
  CHECKPOINTS_FOLDER,
  assertSameArchitecture,
  cleanStaleStaging,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import type { SftRecord } from './data.js';
import { fingerprintExamples, readSftRecords, tokenizeRecords } from './data.js';
import { OPTIMIZER_DEFAULTS } from '../compute/optimizers.js';
import { createGradientExecutor, defaultThreads } from './parallel.js';
import { PRESETS, presetConfig } from './presets.js';
import type { SftHyperparameters, StepMetrics } from './sft.js';
import { SftTrainer, TrainerStateSchema, resolveHyperparameters } from './sft.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';

const RunFileSchema = z.object({
  formatVersion: z.literal(1),
  runId: z.string(),
  method: z.literal('sft'),
  createdAt: z.string(),
  engineVersion: z.string(),
  outputName: z.string(),
  base: z.union([z.object({ model: z.string() }), z.object({ preset: ModelPreset })]),
  data: z.object({
    source: z.union([z.object({ datasetId: z.string() }), z.object({ files: z.array(z.string()) })]),
    examples: z.number().int(),
    fingerprint: z.string(),
  }),
  model: z.record(z.string(), z.unknown()),
  hyperparameters: z.record(z.string(), z.unknown()),
});
type RunFile = z.infer<typeof RunFileSchema>;

/** What the `model.train-sft` worker returns; its completion step adds the model and the run to the catalog. */
export type TrainSftResult = Omit<ModelTrainSftResult, 'entry'>;

export const trainSft: JobHandler = async (params, context) => {
  const parsed = ModelTrainSftParams.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  return runTraining(parsed.data, context);
};

async function runTraining(
  request: z.output<typeof ModelTrainSftParams>,
  context: JobContext,
): Promise<TrainSftResult> {
  const notes: string[] = [];
  const requestedBase: RunFile['base'] =
    request.preset !== undefined ? { preset: request.preset } : { model: request.model as string };
  const outputName = request.outputName ?? `${baseLabel(requestedBase)}-sft`;
  const runId = request.runId ?? slug(outputName);
  const runFolder = runDir(context.workspaceDir, runId);
  const stored = await readRunFile(runFolder);
  if (stored !== null && !request.resume) {
    throw new AppFailure('run_exists', `The run ${runId} already exists (${runFolder}).`, { runId });
  }
  if (request.resume && stored === null) notes.push(`run ${runId} had not started; starting it`);

  const base = stored?.base ?? requestedBase;
  const source =
    stored?.data.source ??
    (request.datasetId !== undefined ? { datasetId: request.datasetId } : { files: request.files as string[] });
  const hyperparameters =
    stored !== null
      ? resolveHyperparameters(stored.hyperparameters as Partial<SftHyperparameters>)
      : requestedHyperparameters(request);
  if (stored !== null && JSON.stringify(requestedHyperparameters(request)) !== JSON.stringify(hyperparameters)) {
    notes.push('resumed with the run’s stored hyperparameters; the ones given now were ignored');
  }

  context.progress('reading data', 0, 1);
  const records = await readSftRecords(
    'datasetId' in source ? { datasetId: source.datasetId, workspaceDir: context.workspaceDir } : source,
  );
  context.throwIfCancelled();

  context.progress('loading model', 0, 1);
  let { model, tokenizer } = await loadBase(base, records, hyperparameters, context.workspaceDir);
  let loaded: LoadedCheckpoint | undefined;
  try {
    if (JSON.stringify(base) !== JSON.stringify(requestedBase) && request.resume) {
      // Resuming under another base: allowed only if it is the same architecture (STYLE.md §7).
      const requestedConfig = await configOfBase(requestedBase, model.config, context.workspaceDir);
      assertSameArchitecture(model.config, requestedConfig, `The requested base ${baseLabel(requestedBase)}`);
    }
    const maxLength = Math.min(hyperparameters.maxLength, model.config.maxPositionEmbeddings);
    const { examples, stats } = tokenizeRecords(records, tokenizer, maxLength);
    if (examples.length === 0) {
      throw new AppFailure(
        'training_data_invalid',
        `None of the ${records.length} records has an assistant turn to train on.`,
      );
    }
    const fingerprint = fingerprintExamples(examples);
    if (stats.skipped > 0) notes.push(`${stats.skipped} records without assistant tokens were skipped`);
    if (stats.truncated > 0) notes.push(`${stats.truncated} examples were cut to ${maxLength} tokens`);

    if (stored === null) {
      const runFile: RunFile = {
        formatVersion: 1,
        runId,
        method: 'sft',
        createdAt: new Date().toISOString(),
        engineVersion: APP_VERSION,
        outputName,
        base,
        data: { source, examples: examples.length, fingerprint },
        model: { ...model.config },
        hyperparameters: { ...hyperparameters },
      };
      await mkdir(runFolder, { recursive: true });
      await writeFileAtomic(path.join(runFolder, RUN_FILE), `${JSON.stringify(runFile, null, 2)}\n`);
    } else if (stored.data.fingerprint !== fingerprint) {
      throw new AppFailure(
        'checkpoint_config_mismatch',
        `The training data of run ${runId} changed since it started (its tokens no longer match); start a new run.`,
      );
    }

    const checkpoints = path.join(runFolder, CHECKPOINTS_FOLDER);
    if (request.resume) {
      const removed = await cleanStaleStaging(checkpoints);
      if (removed.length > 0) notes.push(`removed ${removed.length} unfinished checkpoint folders`);
      const search = await findLatestCheckpoint(checkpoints);
      for (const skipped of search.skipped) notes.push(`skipped ${path.basename(skipped.folder)}: ${skipped.reason}`);
      if (search.checkpoint !== null) {
        loaded = await loadCheckpoint(search.checkpoint, model.config);
        model.dispose();
        model = loaded.model;
        tokenizer = loaded.tokenizer ?? tokenizer;
      } else if (stored !== null) {
        notes.push('no valid checkpoint; training from the start');
      }
    }

    const threads = Math.min(request.threads ?? defaultThreads(), hyperparameters.shards);
    const executor = await createGradientExecutor(model, { threads });
    if (executor.note !== '') notes.push(executor.note);
    const padId = tokenizer.specialTokens.pad?.id ?? tokenizer.specialTokens.eos?.id ?? 0;
    const trainer = new SftTrainer(model, examples, hyperparameters, executor, padId);
    try {
      if (loaded !== undefined) {
        const state = TrainerStateSchema.safeParse((loaded.trainerState as { trainer?: unknown }).trainer);
        if (!state.success) {
          throw new AppFailure('checkpoint_invalid', `${loaded.folder}: trainer_state.json does not match its schema.`);
        }
        trainer.restore(state.data, loaded.optimizer);
        await appendJsonLine(path.join(runFolder, METRICS_FILE), {
          event: 'resumed',
          fromStep: trainer.step,
          time: new Date().toISOString(),
        });
      }
      const resumedFrom = loaded === undefined ? null : trainer.step;
      const final = await trainLoop(
        trainer,
        { model, tokenizer, runFolder, checkpoints, hyperparameters, fingerprint },
        context,
      );

      context.progress('saving model', 0, 1);
      const modelId = await newModelId(context.workspaceDir, outputName);
      const folder = modelDir(context.workspaceDir, modelId);
      await saveHfModel(model, folder, { extraFiles: tokenizerFiles(model.config, tokenizer) });
      const { summary } = await inspectModelFolder(folder);
      return {
        runId,
        runFolder,
        modelId,
        modelName: outputName,
        summary,
        base,
        datasetId: 'datasetId' in source ? source.datasetId : null,
        steps: trainer.step,
        resumedFrom,
        finalLoss: final.lastLoss,
        tokensPerSecond: final.seconds > 0 ? final.tokens / final.seconds : 0,
        threads: executor.threads,
        notes,
      };
    } finally {
      trainer.dispose();
      await executor.close();
    }
  } finally {
    model.dispose();
  }
}

interface LoopContext {
  model: CausalLanguageModel;
  tokenizer: Tokenizer;
  runFolder: string;
  checkpoints: string;
  hyperparameters: SftHyperparameters;
  fingerprint: string;
}

/** Steps until the trainer is done: a metrics line and a progress report per step, checkpoints as configured. */
async function trainLoop(
  trainer: SftTrainer,
  loop: LoopContext,
  context: JobContext,
): Promise<{ lastLoss: number | null; tokens: number; seconds: number }> {
  const metricsFile = path.join(loop.runFolder, METRICS_FILE);
  let lastLoss: number | null = null;
  let tokens = 0;
  let seconds = 0;
  context.progress('training', trainer.step, trainer.totalSteps);
  while (!trainer.done) {
    context.throwIfCancelled();
    const metrics: StepMetrics = await trainer.trainStep();
    lastLoss = metrics.loss;
    tokens += metrics.tokens;
    seconds += metrics.seconds;
    await appendJsonLine(metricsFile, {
      step: metrics.step,
      epoch: metrics.epoch,
      loss: metrics.loss,
      grad_norm: metrics.gradNorm,
      learning_rate: metrics.learningRate,
      tokens: metrics.tokens,
      tokens_per_second: metrics.tokensPerSecond,
      time: new Date().toISOString(),
    });
    context.output({ type: 'metrics', ...metrics } satisfies TrainMetricsOutput);
    context.progress('training', metrics.step, trainer.totalSteps, `loss ${metrics.loss.toFixed(4)}`);
    if (metrics.step % loop.hyperparameters.checkpointEvery === 0 || trainer.done) {
      const { trainer: state, optimizer } = await trainer.save();
      await saveCheckpoint(
        loop.checkpoints,
        {
          step: metrics.step,
          model: loop.model,
          tokenizer: loop.tokenizer,
          optimizer,
          trainerState: {
            trainer: state,
            schedule: { ...trainer.schedule, step: state.step },
            hyperparameters: loop.hyperparameters,
            dataFingerprint: loop.fingerprint,
            metrics: { loss: metrics.loss, gradNorm: metrics.gradNorm },
          },
        },
        { keep: loop.hyperparameters.keepCheckpoints },
      );
    }
  }
  return { lastLoss, tokens, seconds };
}

function requestedHyperparameters(request: z.output<typeof ModelTrainSftParams>): SftHyperparameters {
  const { optimizer, weightDecay, ...rest } = request.hyperparameters;
  const kind = optimizer ?? 'adamw';
  return resolveHyperparameters({
    ...rest,
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    optimizer: { ...OPTIMIZER_DEFAULTS[kind], ...(weightDecay !== undefined ? { weightDecay } : {}) },
    shards: rest.shards ?? Math.min(defaultThreads(), rest.batchSize ?? 8),
  });
}

/** The base model and tokenizer: loaded from a folder, or a preset built from scratch with a tokenizer trained on the data. */
async function loadBase(
  base: RunFile['base'],
  records: readonly SftRecord[],
  hyperparameters: SftHyperparameters,
  workspaceDir: string,
): Promise<{ model: CausalLanguageModel; tokenizer: Tokenizer }> {
  if ('preset' in base) {
    const preset = PRESETS[base.preset];
    const tokenizer = trainByteLevelBpe(trainingTexts(records), { vocabSize: preset.tokenizerVocabSize });
    const config = presetConfig(base.preset, tokenizer);
    return { model: createModel(config, { seed: hyperparameters.seed }), tokenizer };
  }
  const folder = resolveModelFolder(workspaceDir, base.model);
  const tokenizer = await loadOptionalTokenizer(folder);
  if (tokenizer === null) {
    throw new AppFailure('model_tokenizer_missing', `${folder} has no tokenizer to tokenize the training data with.`);
  }
  return { model: await loadHfModel(folder), tokenizer };
}

/** The config a base would give, for comparing architectures (a preset at the current vocabulary size). */
async function configOfBase(base: RunFile['base'], current: ModelConfig, workspaceDir: string): Promise<ModelConfig> {
  if ('preset' in base) return PRESETS[base.preset].config(current.vocabSize);
  return readModelConfig(resolveModelFolder(workspaceDir, base.model));
}

/** The texts a preset's tokenizer learns from: each record rendered as it will be trained on. */
function trainingTexts(records: readonly SftRecord[]): string[] {
  return records.map((record) =>
    'messages' in record
      ? applyChatTemplate(record.messages, { template: DEFAULT_CHAT_TEMPLATE, eosToken: '<|im_end|>' })
      : `${record.prompt}${record.completion}`,
  );
}

async function readRunFile(runFolder: string): Promise<RunFile | null> {
  let text: string;
  try {
    text = await readFile(path.join(runFolder, RUN_FILE), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppFailure(
      'checkpoint_invalid',
      `${runFolder}/${RUN_FILE} is not valid JSON (${(error as Error).message}).`,
    );
  }
  const parsed = RunFileSchema.safeParse(value);
  if (!parsed.success)
    throw new AppFailure('checkpoint_invalid', `${runFolder}/${RUN_FILE} does not match its schema.`);
  return parsed.data;
}

function baseLabel(base: RunFile['base']): string {
  return 'preset' in base ? base.preset : path.basename(base.model);
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9._]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 100) || 'run'
  );
}

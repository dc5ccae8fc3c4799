/**
 * `drift-wb eval`: evaluates checkpoints on held-out prompts (the `eval.run` job) and prints each
 * checkpoint's mean reward, gold success, win rate against the first and Vendi score; the result
 * is stored in `<workspace>/evaluations/<id>/` for the Compare view. `--list` lists earlier ones.
 *
 *   eval --checkpoints ID,ID [--labels A,B] [--run RUNID]… (--pairs SET | --sim N) [--reward gold|MODEL|FOLDER]
 *
 * `--run` adds a run's base model (once) and the model of each finished iteration, in order.
 * `drift-wb reward train --model ID --pairs SET`: a Bradley–Terry reward model (the `reward.train` job).
 */
import path from 'node:path';
import type { Command } from 'commander';
import type {
  EvalRunParams,
  EvalRunResult,
  EvaluationCheckpointSpec,
  EvaluationMeta,
  EvaluationRewardSpec,
  Job,
  JobKind,
  RewardTrainParams,
  RewardTrainResult,
} from '../../api/index.js';
import type { Engine } from '../../engine/index.js';
import { call, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { EXIT_OK, EXIT_USAGE, commandError, type CommandError } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';

interface EvalOptions {
  checkpoints?: string;
  labels?: string;
  run: string[];
  pairs?: string;
  sim?: number;
  split: string;
  prompts?: number;
  reward: string;
  samples?: number;
  maxNewTokens?: number;
  temperature?: number;
  seed?: number;
  id?: string;
  title?: string;
  list?: boolean;
}

interface RewardTrainOptions {
  model: string;
  pairs: string;
  from: string;
  name?: string;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  heldOut?: number;
  seed?: number;
}

export function registerEval(program: Command, run: CommandRunner): void {
  program
    .command('eval')
    .description('evaluate checkpoints on held-out prompts: reward, gold success, win rates, diversity (a job)')
    .option('--checkpoints <ids>', 'workspace model ids, comma-separated; the first is the base of the win rates')
    .option('--labels <names>', 'names for --checkpoints, comma-separated (default: the ids)')
    .option('--run <id>', 'add a run’s base model and each iteration’s model (repeatable)', collect, [])
    .option('--pairs <set>', 'prompts: the held-out DSAT contexts of this pair set (name or name@vK)')
    .option('--sim <n>', 'prompts: n held-out tasks of the simulated deployment (gold checker)', integer)
    .option('--split <split>', 'with --pairs: held-out (as runs hold it out) or all', 'held-out')
    .option('--prompts <n>', 'with --pairs: at most this many prompts', integer)
    .option('--reward <judge>', 'gold, a reward model id, or an HF *ForSequenceClassification folder', 'gold')
    .option('--samples <n>', 'responses per prompt per checkpoint', integer)
    .option('--max-new-tokens <n>', 'longest response in tokens', integer)
    .option('--temperature <t>', 'sampling temperature', number)
    .option('--seed <n>', 'seed of sampling, the bootstrap and the map', integer)
    .option('--id <id>', 'the evaluation’s id (default: from the time)')
    .option('--title <text>', 'a title for lists')
    .option('--list', 'list the workspace’s evaluations instead')
    .action((options: EvalOptions, command: Command) => run(command, (context) => evalCommand(options, context)));

  const reward = program.command('reward').description('reward models');
  reward
    .command('train')
    .description('train a Bradley–Terry reward model on a pair set; reports held-out accuracy (a job)')
    .requiredOption('--model <id>', 'the workspace model whose weights start the reward model')
    .requiredOption('--pairs <set>', 'the pair set (name or name@vK)')
    .option('--from <sources>', 'pairs: seed, sat-vs-dsat, or both comma-separated', 'seed')
    .option('--name <name>', 'the reward model’s name (default: <model>-reward)')
    .option('--epochs <n>', 'passes over the training pairs', integer)
    .option('--lr <rate>', 'learning rate', number)
    .option('--batch-size <n>', 'pairs per step', integer)
    .option('--held-out <fraction>', 'share of pairs held out for accuracy', number)
    .option('--seed <n>', 'seed of the split, the order and the head', integer)
    .action((options: RewardTrainOptions, command: Command) =>
      run(command, (context) => rewardTrainCommand(options, context)),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw commandError('invalid_arguments', `"${value}" is not a number.`, undefined, EXIT_USAGE);
  }
  return parsed;
}

function integer(value: string): number {
  const parsed = number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw commandError('invalid_arguments', `"${value}" is not a whole number.`, undefined, EXIT_USAGE);
  }
  return parsed;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function usage(message: string): CommandError {
  return commandError('invalid_arguments', message, undefined, EXIT_USAGE);
}

async function evalCommand(options: EvalOptions, { globals, output }: CommandContext): Promise<number> {
  if (options.list) {
    const evaluations = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'eval:list', {}));
    output.result(
      evaluations,
      evaluations.length === 0 ? 'No evaluations in this workspace.' : evaluations.flatMap(describeMeta),
    );
    return EXIT_OK;
  }
  if ((options.pairs === undefined) === (options.sim === undefined)) {
    throw usage('Give the prompts with either --pairs <set> or --sim <n>.');
  }
  const ids = list(options.checkpoints);
  const labels = list(options.labels);
  if (labels.length > ids.length)
    throw usage(`--labels names ${labels.length} checkpoints; --checkpoints has ${ids.length}.`);
  const reward: EvaluationRewardSpec =
    options.reward === 'gold'
      ? { kind: 'gold' }
      : path.isAbsolute(options.reward) || options.reward.startsWith('.')
        ? { kind: 'reward-model', folder: path.resolve(options.reward) }
        : { kind: 'reward-model', modelId: options.reward };
  const settings: Record<string, unknown> = {};
  if (options.samples !== undefined) settings['samples'] = options.samples;
  if (options.seed !== undefined) settings['seed'] = options.seed;
  const sampling: Record<string, unknown> = {};
  if (options.maxNewTokens !== undefined) sampling['maxNewTokens'] = options.maxNewTokens;
  if (options.temperature !== undefined) sampling['temperature'] = options.temperature;
  if (Object.keys(sampling).length > 0) settings['sampling'] = sampling;

  const job = await withEngine(globals, 'cli', async (engine, handlers) => {
    const checkpoints: EvaluationCheckpointSpec[] = ids.map((modelId, index) => ({
      label: labels[index] ?? modelId,
      modelId,
      method: 'model',
    }));
    for (const runId of options.run) {
      const detail = await call(handlers, 'run:get', { id: runId });
      const base = detail.config.baseModelId;
      if (!checkpoints.some((checkpoint) => checkpoint.modelId === base)) {
        checkpoints.push({ label: 'base', modelId: base, method: 'base' });
      }
      for (const iteration of detail.iterations) {
        if (iteration.modelId === null) continue;
        const name = iteration.iteration === 0 ? 'seed' : `iter-${iteration.iteration}`;
        checkpoints.push({
          label: `${detail.config.name} ${name}`,
          modelId: iteration.modelId,
          method: detail.config.method,
          runId,
        });
      }
    }
    if (checkpoints.length === 0) throw usage('Name the checkpoints with --checkpoints or --run.');
    const params: EvalRunParams = {
      checkpoints,
      prompts:
        options.pairs !== undefined
          ? {
              kind: 'pair-set',
              pairSet: options.pairs,
              split: options.split === 'all' ? 'all' : 'held-out',
              ...(options.prompts !== undefined ? { count: options.prompts } : {}),
            }
          : {
              kind: 'sim',
              count: options.sim as number,
              ...(options.seed !== undefined ? { seed: options.seed } : {}),
            },
      reward,
      settings,
      ...(options.id !== undefined ? { id: options.id } : {}),
      ...(options.title !== undefined ? { title: options.title } : {}),
    };
    return succeeded(engine, 'eval.run', params as Record<string, unknown>);
  });
  const result = job.result as EvalRunResult;
  output.result(result, [...describeMeta(result.meta), `Stored in ${result.folder}`]);
  return EXIT_OK;
}

async function rewardTrainCommand(options: RewardTrainOptions, { globals, output }: CommandContext): Promise<number> {
  const sources = list(options.from);
  if (sources.length === 0 || !sources.every((source) => source === 'seed' || source === 'sat-vs-dsat')) {
    throw usage(`--from takes seed, sat-vs-dsat or both; got "${options.from}".`);
  }
  const params: RewardTrainParams = {
    modelId: options.model,
    pairSet: options.pairs,
    pairs: sources as ('seed' | 'sat-vs-dsat')[],
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.lr !== undefined ? { learningRate: options.lr } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.heldOut !== undefined ? { heldOutFraction: options.heldOut } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const job = await withEngine(globals, 'cli', (engine) =>
    succeeded(engine, 'reward.train', params as Record<string, unknown>),
  );
  const result = job.result as RewardTrainResult;
  const accuracy = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
  output.result(result, [
    `Trained reward model ${result.modelId} on ${result.trainPairs} pairs of ${result.pairSet} ` +
      `(${result.pairCounts.seed} seed, ${result.pairCounts.satVsDsat} SAT vs DSAT) in ${result.steps} steps.`,
    `Held-out accuracy ${accuracy(result.heldOutAccuracy)} on ${result.heldOutPairs} pairs; ` +
      `training accuracy ${accuracy(result.trainAccuracy)}, final loss ${result.finalLoss.toFixed(4)}.`,
  ]);
  return EXIT_OK;
}

/** Runs a job with progress on stderr; a job that did not succeed becomes the command's error. */
async function succeeded(engine: Engine, kind: JobKind, params: Record<string, unknown>): Promise<Job> {
  const job = await runJobWithProgress(engine, kind, params);
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `The ${kind} job ${job.status}.`,
      job.error?.hint,
    );
  }
  return job;
}

function describeMeta(meta: EvaluationMeta): string[] {
  const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
  const judge =
    meta.reward.kind === 'gold'
      ? 'gold checker'
      : `reward model ${'modelId' in meta.reward ? meta.reward.modelId : meta.reward.folder}`;
  return [
    `${meta.id}: ${meta.title} — ${meta.promptCount} prompts × ${meta.samples} samples, judged by the ${judge} (${formatDuration(meta.seconds)})`,
    ...meta.summary.map(
      (row) =>
        `  ${row.label.padEnd(24)} reward ${row.meanReward.toFixed(3).padStart(8)}  gold ${percent(row.goldSuccess).padStart(6)}` +
        `  win ${percent(row.winRate).padStart(6)}  vendi ${row.vendiScore === null ? '—' : row.vendiScore.toFixed(2)}`,
    ),
  ];
}

/**
 * `drift-wb model …`: models headless.
 *
 *   model import <folder> [--name N]        copy a local HF folder into the workspace (a job)
 *   model list                              the workspace's models
 *   model info <id|folder>                  architecture, weights, dtype, tokenizer, config
 *   model generate <id|folder> --prompt …   continue prompts, streaming tokens to stdout (a job)
 *   model train-sft <id|folder> | --preset  supervised fine-tuning with checkpoints, resumable (a job)
 *   model delete <id>                       remove a workspace model
 *
 * A model argument that names an existing folder is that folder; anything else is a workspace id.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type {
  GenerateTokenOutput,
  Job,
  JobKind,
  ModelEntry,
  ModelGenerateResult,
  ModelImportResult,
  ModelTrainSftResult,
  ResponseOf,
} from '../../api/index.js';
import type { Engine } from '../../engine/index.js';
import { call, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { CommandError, EXIT_OK, EXIT_USAGE, commandError } from '../output.js';
import { createProgressDisplay, formatDuration } from '../progress.js';

export function registerModel(program: Command, run: CommandRunner): void {
  const model = program.command('model').description('import, inspect, run and train models');
  model
    .command('import')
    .description('import a local Hugging Face folder (config.json, safetensors, tokenizer) into the workspace (a job)')
    .argument('<folder>', 'the model folder')
    .option('--name <name>', 'display name (default: the folder name)')
    .action((folder: string, options: { name?: string }, command: Command) =>
      run(command, (context) => importCommand(folder, options, context)),
    );
  model
    .command('list')
    .description('list the workspace’s models')
    .action((_options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const list = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'model:list', {}));
        output.result(list, list.length === 0 ? 'No models in this workspace.' : modelTable(list));
        return EXIT_OK;
      }),
    );
  model
    .command('info')
    .description('show a model’s architecture, weights, dtype, tokenizer and config')
    .argument('<model>', 'workspace model id, or a model folder')
    .action((reference: string, _options: unknown, command: Command) =>
      run(command, (context) => infoCommand(reference, context)),
    );
  model
    .command('generate')
    .description('continue prompts with a model, streaming the tokens (a job)')
    .argument('<model>', 'workspace model id, or a model folder')
    .requiredOption('--prompt <text>', 'a prompt (repeatable: prompts run as one batch)', collect, [])
    .option('--chat', 'render each prompt as a user turn with the model’s chat template')
    .option('--max-new-tokens <n>', 'most tokens to add per prompt', integer, 64)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', number)
    .option('--top-p <p>', 'nucleus sampling: keep the most likely tokens up to this mass', number)
    .option('--top-k <k>', 'keep the k most likely tokens', integer)
    .option('--min-p <p>', 'drop tokens below p × the top probability', number)
    .option('--repetition-penalty <r>', 'penalise tokens already present (> 1)', number)
    .option('--stop <text>', 'stop at this text (repeatable)', collect, [])
    .option('--seed <n>', 'sampling seed', integer)
    .action((reference: string, options: GenerateOptions, command: Command) =>
      run(command, (context) => generateCommand(reference, options, context)),
    );
  model
    .command('train-sft')
    .description('supervised fine-tuning on conversations, with checkpoints; --resume continues a run (a job)')
    .argument('[model]', 'workspace model id, or a model folder (or use --preset)')
    .option('--preset <name>', 'train a fresh model of this size (tiny, small) with a tokenizer learned from the data')
    .option('--dataset <id>', 'a workspace dataset')
    .option(
      '--file <path>',
      'JSONL of {"messages": […]} (a message with "weight": 0 is context only) or {"prompt", "completion"} (repeatable)',
      collect,
      [],
    )
    .option('--name <name>', 'the trained model’s name (default: <base>-sft); also names the run')
    .option('--run-id <id>', 'the run’s id (default: from the name)')
    .option('--epochs <n>', 'passes over the data', integer)
    .option('--max-steps <n>', 'stop after this many optimizer steps', integer)
    .option('--lr <rate>', 'peak learning rate', number)
    .option('--batch-size <n>', 'sequences per micro-batch', integer)
    .option('--grad-accum <n>', 'micro-batches per optimizer step', integer)
    .option('--optimizer <name>', 'adamw or rmsprop')
    .option('--weight-decay <w>', 'weight decay (decoupled for AdamW, L2 for RMSprop)', number)
    .option('--schedule <name>', 'constant, linear or cosine')
    .option('--warmup <n>', 'warmup steps', integer)
    .option('--clip <norm>', 'clip the gradient norm to this (0: off)', number)
    .option('--max-length <n>', 'longest sequence in tokens', integer)
    .option('--checkpoint-every <n>', 'steps between checkpoints', integer)
    .option('--threads <n>', 'threads computing gradients (default: the cores, on wasm and cpu)', integer)
    .option('--seed <n>', 'seed of the data order (and of a preset’s weights)', integer)
    .option('--resume', 'continue the run from its newest valid checkpoint')
    .action((reference: string | undefined, options: TrainOptions, command: Command) =>
      run(command, (context) => trainCommand(reference, options, context)),
    );
  model
    .command('delete')
    .description('remove a workspace model and its folder')
    .argument('<id>', 'workspace model id')
    .action((id: string, _options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const result = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'model:delete', { id }));
        output.result({ id, ...result }, `Deleted model ${id}.`);
        return EXIT_OK;
      }),
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

/** A folder argument as an absolute path, or null when it names no folder (a workspace id then). */
async function folderOf(reference: string): Promise<string | null> {
  const resolved = path.resolve(reference);
  try {
    return (await stat(resolved)).isDirectory() ? resolved : null;
  } catch {
    return null;
  }
}

/** Runs a job with the progress display on stderr; Ctrl+C cancels it; a failed job becomes the command's error. */
async function runJob(
  engine: Engine,
  kind: JobKind,
  params: Record<string, unknown>,
  options: { quiet?: boolean; onOutput?: (data: unknown) => void } = {},
): Promise<Job> {
  const progress = options.quiet ? undefined : createProgressDisplay();
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const target: { id?: string } = {};
  const unsubscribe = options.onOutput
    ? engine.on('job:output', ({ jobId, data }) => {
        if (target.id === undefined || jobId === target.id) options.onOutput?.(data);
      })
    : undefined;
  let job: Job;
  try {
    job = await engine.runJob(kind, params, {
      onUpdate: (update) => {
        target.id ??= update.id;
        progress?.update(update);
      },
      signal: controller.signal,
    });
  } finally {
    unsubscribe?.();
    progress?.stop();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
  if (job.status !== 'succeeded') {
    throw new CommandError({
      code: (job.error?.code ?? 'job_failed') as CommandError['error']['code'],
      message: job.error?.message ?? `The ${kind} job ${job.status}.`,
      ...(job.error?.hint ? { hint: job.error.hint } : {}),
      ...(job.error?.details !== undefined ? { details: job.error.details } : {}),
    });
  }
  return job;
}

async function importCommand(
  folder: string,
  options: { name?: string },
  { globals, output }: CommandContext,
): Promise<number> {
  const params: Record<string, unknown> = { path: path.resolve(folder) };
  if (options.name !== undefined) params['name'] = options.name;
  const job = await withEngine(globals, 'cli', (engine) => runJob(engine, 'model.import', params));
  const result = job.result as ModelImportResult;
  output.result(result.entry, [`Imported ${result.source} as model ${result.modelId}`, ...describeEntry(result.entry)]);
  return EXIT_OK;
}

type ModelDetails = ResponseOf<'model:get'> | (ResponseOf<'model:inspect'> & { entry?: undefined });

async function infoCommand(reference: string, { globals, output }: CommandContext): Promise<number> {
  const folder = await folderOf(reference);
  const details: ModelDetails = await withEngine(globals, 'cli', (_engine, handlers): Promise<ModelDetails> =>
    folder !== null
      ? call(handlers, 'model:inspect', { path: folder })
      : call(handlers, 'model:get', { id: reference }),
  );
  const entry: Partial<ModelEntry> = details.entry ?? details;
  const lines = [
    details.entry ? `Model ${details.entry.id} (${details.entry.name})` : `Model folder ${folder}`,
    ...describeEntry(entry),
    '  config',
    ...Object.entries(details.config).map(([key, value]) => `    ${key.padEnd(28)}${JSON.stringify(value)}`),
  ];
  output.result(details, lines);
  return EXIT_OK;
}

interface GenerateOptions {
  prompt: string[];
  chat?: boolean;
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  stop: string[];
  seed?: number;
}

async function generateCommand(reference: string, options: GenerateOptions, context: CommandContext): Promise<number> {
  const { globals, output } = context;
  const model = (await folderOf(reference)) ?? reference;
  const params: Record<string, unknown> = {
    model,
    prompts: options.prompt,
    chat: options.chat === true,
    maxNewTokens: options.maxNewTokens,
  };
  for (const key of ['temperature', 'topP', 'topK', 'minP', 'repetitionPenalty', 'seed'] as const) {
    if (options[key] !== undefined) params[key] = options[key];
  }
  if (options.stop.length > 0) params['stopStrings'] = options.stop;
  // One prompt streams its tokens to stdout as they come; several are printed whole at the end.
  const streaming = !output.json && options.prompt.length === 1;
  const job = await withEngine(globals, 'cli', (engine) =>
    runJob(engine, 'model.generate', params, {
      quiet: streaming,
      ...(streaming ? { onOutput: (data: unknown) => process.stdout.write((data as GenerateTokenOutput).text) } : {}),
    }),
  );
  const result = job.result as ModelGenerateResult;
  const rate = `${result.tokens} tokens in ${result.seconds.toFixed(2)} s (${result.tokensPerSecond.toFixed(1)} tokens/s)`;
  if (streaming) {
    process.stdout.write('\n');
    output.note(`${result.completions[0]?.finishReason ?? ''}; ${rate}`);
    return EXIT_OK;
  }
  const lines = result.completions.flatMap((completion, row) => [
    `--- ${row + 1} (${completion.finishReason}, ${completion.completionTokens} tokens)`,
    completion.text,
  ]);
  output.result({ ...result, prompts: options.prompt }, [...lines, rate]);
  return EXIT_OK;
}

interface TrainOptions {
  preset?: string;
  dataset?: string;
  file: string[];
  name?: string;
  runId?: string;
  epochs?: number;
  maxSteps?: number;
  lr?: number;
  batchSize?: number;
  gradAccum?: number;
  optimizer?: string;
  weightDecay?: number;
  schedule?: string;
  warmup?: number;
  clip?: number;
  maxLength?: number;
  checkpointEvery?: number;
  threads?: number;
  seed?: number;
  resume?: boolean;
}

async function trainCommand(
  reference: string | undefined,
  options: TrainOptions,
  context: CommandContext,
): Promise<number> {
  const { globals, output } = context;
  if ((reference === undefined) === (options.preset === undefined)) {
    throw commandError('invalid_arguments', 'Give a base model or --preset, not both.', undefined, EXIT_USAGE);
  }
  if ((options.dataset === undefined) === (options.file.length === 0)) {
    throw commandError('invalid_arguments', 'Give --dataset or --file, not both.', undefined, EXIT_USAGE);
  }
  const hyperparameters: Record<string, unknown> = {};
  const mapping: [keyof TrainOptions, string][] = [
    ['epochs', 'epochs'],
    ['maxSteps', 'maxSteps'],
    ['lr', 'learningRate'],
    ['batchSize', 'batchSize'],
    ['gradAccum', 'gradientAccumulation'],
    ['optimizer', 'optimizer'],
    ['weightDecay', 'weightDecay'],
    ['schedule', 'schedule'],
    ['warmup', 'warmupSteps'],
    ['clip', 'maxGradNorm'],
    ['maxLength', 'maxLength'],
    ['checkpointEvery', 'checkpointEvery'],
  ];
  for (const [option, key] of mapping) if (options[option] !== undefined) hyperparameters[key] = options[option];
  const params: Record<string, unknown> = { hyperparameters, resume: options.resume === true };
  if (reference !== undefined) params['model'] = (await folderOf(reference)) ?? reference;
  else params['preset'] = options.preset;
  if (options.dataset !== undefined) params['datasetId'] = options.dataset;
  else params['files'] = options.file.map((file) => path.resolve(file));
  if (options.name !== undefined) params['outputName'] = options.name;
  if (options.runId !== undefined) params['runId'] = options.runId;
  if (options.seed !== undefined) params['seed'] = options.seed;
  if (options.threads !== undefined) params['threads'] = options.threads;

  const job = await withEngine(globals, 'cli', (engine) => runJob(engine, 'model.train-sft', params));
  const result = job.result as ModelTrainSftResult;
  const seconds = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : 0;
  const lines = [
    `Trained ${result.steps} steps${result.resumedFrom !== null ? ` (resumed at step ${result.resumedFrom})` : ''} ` +
      `in ${formatDuration(seconds)}; saved model ${result.modelId}`,
    `  run         ${result.runId} (${result.runFolder})`,
    `  final loss  ${result.finalLoss === null ? '—' : result.finalLoss.toFixed(4)}`,
    `  speed       ${result.tokensPerSecond.toFixed(0)} tokens/s on ${result.threads} thread(s)`,
    ...describeEntry(result.entry),
    ...result.notes.map((note) => `  note        ${note}`),
  ];
  output.result(result, lines);
  return EXIT_OK;
}

function describeEntry(entry: Partial<ModelEntry>): string[] {
  const tokenizer = entry.tokenizer;
  return [
    `  architecture ${entry.architecture ?? '?'} (${entry.modelType ?? '?'})`,
    `  parameters   ${(entry.parameters ?? 0).toLocaleString('en-US')}`,
    `  dtype        ${entry.dtype ?? '?'}`,
    `  layers       ${entry.layers ?? '?'}, width ${entry.hiddenSize ?? '?'}, context ${entry.contextLength ?? '?'}, vocabulary ${entry.vocabSize ?? '?'}`,
    `  tokenizer    ${
      tokenizer
        ? `${tokenizer.vocabSize} tokens, eos ${tokenizer.eosToken ?? 'none'}, ${tokenizer.hasChatTemplate ? 'chat template' : 'no chat template'}`
        : 'none'
    }`,
    ...(entry.origin ? [`  origin       ${entry.origin} (${entry.source ?? ''})`] : []),
  ];
}

function modelTable(list: readonly ModelEntry[]): string[] {
  const rows = list.map((entry) => [
    entry.id,
    entry.architecture,
    (entry.parameters ?? 0).toLocaleString('en-US'),
    entry.dtype ?? '?',
    entry.tokenizer ? `${entry.tokenizer.vocabSize}` : 'none',
    entry.origin ?? '?',
  ]);
  const header = ['ID', 'ARCHITECTURE', 'PARAMETERS', 'DTYPE', 'TOKENIZER', 'ORIGIN'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const format = (row: readonly string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

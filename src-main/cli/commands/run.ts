/**
 * `drift-wb run …`: preference-training runs headless.
 *
 *   run start --method M --model ID --pairs SET   a DRIFT, IterDPO, SPIN or offline-DPO run (a job, in this process)
 *   run status [ID]                               a run's config, position, phases and notes; without ID, the runs
 *   run pause ID | run cancel ID                  stop a run (pause keeps it resumable)
 *   run resume ID                                 continue a paused, failed or interrupted run (a job, in this process)
 *   run list                                      the workspace's runs
 *
 * The job runs inside this process, so Ctrl+C pauses the run (it saves a checkpoint and can be
 * resumed). A run owned by another process (the app, or another `run start`) holds the workspace;
 * `run pause|cancel` then writes the run's stop-request.json, which its job reads after its current
 * step, and `run status|list` read the run folders.
 */
import type { Command } from 'commander';
import {
  AppFailure,
  RunConfig,
  RunJobOutput,
  type Job,
  type RunDetail,
  type RunEntry,
  type RunTrainResult,
} from '../../api/index.js';
import { listRunDetails, readRunDetail, requestRunStop, type Engine } from '../../engine/index.js';
import { call, withEngine, type CommandContext, type CommandRunner, type GlobalOptions } from '../context.js';
import { CommandError, EXIT_OK, EXIT_USAGE, commandError } from '../output.js';
import { createProgressDisplay } from '../progress.js';

interface StartOptions {
  method: string;
  model: string;
  pairs: string;
  iterations?: number;
  name?: string;
  runId?: string;
  beta?: number;
  lr?: number;
  seed?: number;
  set: string[];
}

export function registerRun(program: Command, run: CommandRunner): void {
  const command = program
    .command('run')
    .description('preference-training runs: DRIFT, iterative DPO, SPIN and offline DPO on a pair set');
  command
    .command('start')
    .description('start a run on a pair set (a job; Ctrl+C pauses it)')
    .requiredOption('--method <method>', 'drift, iterdpo, spin or dpo')
    .requiredOption('--model <id>', 'the base policy: a workspace model id')
    .requiredOption('--pairs <set>', 'the pair set: name (its latest version) or name@vK')
    .option('--iterations <k>', 'iterations after the seed warm start (paper: 2)', integer)
    .option('--name <name>', 'the run’s name (default: <model>-<method>); also names its models')
    .option('--run-id <id>', 'the run’s id (default: from the name)')
    .option('--beta <beta>', 'DPO β (paper: 0.1)', number)
    .option('--lr <rate>', 'peak learning rate', number)
    .option('--seed <n>', 'seed of sampling, data order and everything else (paper: 42)', integer)
    .option(
      '--set <key=value>',
      'any config field by its path, e.g. generation.maxNewTokens=32 or hyperparameters.loss=ipo (repeatable)',
      collect,
      [],
    )
    .action((options: StartOptions, sub: Command) => run(sub, (context) => startCommand(options, context)));
  command
    .command('status')
    .description('show a run (config, position, finished phases, notes), or list the runs')
    .argument('[id]', 'the run id')
    .action((id: string | undefined, _options: unknown, sub: Command) =>
      run(sub, (context) => (id === undefined ? listCommand(context) : statusCommand(id, context))),
    );
  for (const action of ['pause', 'cancel'] as const) {
    command
      .command(action)
      .description(
        action === 'pause' ? 'pause a run after its current step (resumable)' : 'stop a run for good (its models stay)',
      )
      .argument('<id>', 'the run id')
      .action((id: string, _options: unknown, sub: Command) => run(sub, (context) => stopCommand(id, action, context)));
  }
  command
    .command('resume')
    .description('continue a paused, failed or interrupted run from its last checkpoint (a job)')
    .argument('<id>', 'the run id')
    .action((id: string, _options: unknown, sub: Command) =>
      run(sub, (context) => runCommand({ runId: id, resume: true }, context)),
    );
  command
    .command('list')
    .description('list the workspace’s runs')
    .action((_options: unknown, sub: Command) => run(sub, (context) => listCommand(context)));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) usage(`"${value}" is not a number.`);
  return parsed;
}

function integer(value: string): number {
  const parsed = number(value);
  if (!Number.isSafeInteger(parsed)) usage(`"${value}" is not a whole number.`);
  return parsed;
}

function usage(message: string): never {
  throw commandError('invalid_arguments', message, undefined, EXIT_USAGE);
}

/** Sets `path` (dotted) in `target` to `value` (JSON if it parses as JSON, else the text). */
function setPath(target: Record<string, unknown>, assignment: string): void {
  const equals = assignment.indexOf('=');
  if (equals <= 0) usage(`--set takes key=value, not "${assignment}".`);
  const keys = assignment.slice(0, equals).split('.');
  const text = assignment.slice(equals + 1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  let object = target;
  keys.slice(0, -1).forEach((key) => {
    const next = object[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) object[key] = {};
    object = object[key] as Record<string, unknown>;
  });
  object[keys.at(-1) as string] = value;
}

/** The run config of `run start`'s options, checked against RunConfig (a usage error names the field). */
export function configOf(options: StartOptions): RunConfig {
  const config: Record<string, unknown> = {
    name: options.name ?? `${options.model}-${options.method}`,
    method: options.method,
    baseModelId: options.model,
    pairSet: options.pairs,
    hyperparameters: {},
  };
  const hyperparameters = config['hyperparameters'] as Record<string, unknown>;
  if (options.iterations !== undefined) config['iterations'] = options.iterations;
  if (options.seed !== undefined) config['seed'] = options.seed;
  if (options.beta !== undefined) hyperparameters['beta'] = options.beta;
  if (options.lr !== undefined) hyperparameters['learningRate'] = options.lr;
  for (const assignment of options.set) setPath(config, assignment);
  const parsed = RunConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    usage(`${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

async function startCommand(options: StartOptions, context: CommandContext): Promise<number> {
  const config = configOf(options);
  return runCommand({ config, ...(options.runId !== undefined ? { runId: options.runId } : {}) }, context);
}

/** Runs a run.train job here with the progress display; a paused or cancelled run is reported as such. */
async function runCommand(params: Record<string, unknown>, { globals, output }: CommandContext): Promise<number> {
  const { job, detail } = await withEngine(globals, 'cli', async (engine, handlers) => {
    const finished = await runWithProgress(engine, params, output.json);
    const runId = finished.runId ?? (typeof params['runId'] === 'string' ? params['runId'] : undefined);
    const found = runId === undefined ? null : await call(handlers, 'run:get', { id: runId }).catch(() => null);
    return { job: finished.job, detail: found };
  });
  if (job.status !== 'succeeded') {
    if (job.status === 'cancelled' && detail !== null) {
      const where = `iteration ${detail.position.iteration}, step ${detail.position.step}`;
      throw commandError(
        'job_cancelled',
        detail.status === 'cancelled'
          ? `Run ${detail.id} was cancelled at ${where}.`
          : `Run ${detail.id} paused at ${where}.`,
        detail.status === 'cancelled' ? undefined : `\`drift-wb run resume ${detail.id}\` continues it.`,
      );
    }
    throw new CommandError({
      code: (job.error?.code ?? 'job_failed') as CommandError['error']['code'],
      message: job.error?.message ?? `The run.train job ${job.status}.`,
      ...(job.error?.hint ? { hint: job.error.hint } : {}),
      ...(job.error?.details !== undefined ? { details: job.error.details } : {}),
    });
  }
  const result = job.result as RunTrainResult;
  const seconds = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : 0;
  output.result({ ...result, run: detail }, [
    `Run ${result.runId} ${result.status} in ${seconds.toFixed(0)} s; models ${result.modelIds.join(', ') || '—'}`,
    ...(detail === null ? [] : describeRun(detail)),
  ]);
  return EXIT_OK;
}

/** Starts the job, draws its progress on stderr, and turns Ctrl+C into a pause. */
async function runWithProgress(
  engine: Engine,
  params: Record<string, unknown>,
  quiet: boolean,
): Promise<{ job: Job; runId: string | undefined }> {
  const progress = quiet ? undefined : createProgressDisplay();
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const target: { id?: string; runId?: string } = {};
  const unsubscribe = engine.on('job:output', ({ jobId, data }) => {
    const parsed = RunJobOutput.safeParse(data);
    if (parsed.success && parsed.data.type === 'run-started' && (target.id === undefined || jobId === target.id)) {
      target.runId = parsed.data.runId;
    }
  });
  try {
    const job = await engine.runJob('run.train', params, {
      onUpdate: (update) => {
        target.id ??= update.id;
        progress?.update(update);
      },
      signal: controller.signal,
    });
    return { job, runId: target.runId ?? (job.result as { runId?: string } | undefined)?.runId };
  } finally {
    unsubscribe();
    progress?.stop();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** Whether an error means another process holds the workspace (the run's files are then read directly). */
function locked(error: unknown): boolean {
  return (
    (error instanceof AppFailure && error.code === 'workspace_locked') ||
    (error instanceof CommandError && error.error.code === 'workspace_locked')
  );
}

async function withEngineOrFiles<T>(
  globals: GlobalOptions,
  viaEngine: Parameters<typeof withEngine<T>>[2],
  viaFiles: () => Promise<T>,
): Promise<{ value: T; fromFiles: boolean }> {
  try {
    return { value: await withEngine(globals, 'cli', viaEngine), fromFiles: false };
  } catch (error) {
    if (!locked(error)) throw error;
    return { value: await viaFiles(), fromFiles: true };
  }
}

async function statusCommand(id: string, { globals, output }: CommandContext): Promise<number> {
  const { value: detail } = await withEngineOrFiles(
    globals,
    (_engine, handlers) => call(handlers, 'run:get', { id }),
    () => readRunDetail(globals.workspace, id),
  );
  output.result(detail, describeRun(detail));
  return EXIT_OK;
}

async function stopCommand(
  id: string,
  action: 'pause' | 'cancel',
  { globals, output }: CommandContext,
): Promise<number> {
  const { value: detail, fromFiles } = await withEngineOrFiles(
    globals,
    (_engine, handlers) => call(handlers, action === 'pause' ? 'run:pause' : 'run:cancel', { id }),
    () => requestRunStop(globals.workspace, id, action),
  );
  const line = fromFiles
    ? `Asked the process running ${id} to ${action} it; it stops after its current step.`
    : `Run ${id} is ${detail.status}.`;
  output.result({ ...detail, requested: fromFiles ? action : null }, line);
  return EXIT_OK;
}

async function listCommand({ globals, output }: CommandContext): Promise<number> {
  const { value: runs } = await withEngineOrFiles<RunEntry[]>(
    globals,
    (_engine, handlers) => call(handlers, 'run:list', {}),
    async () =>
      (await listRunDetails(globals.workspace)).map((detail) => ({
        id: detail.id,
        name: detail.config.name,
        method: detail.config.method,
        status: detail.status,
        createdAt: detail.createdAt,
        baseModelId: detail.config.baseModelId,
        datasetId: '',
        pairSet: detail.config.pairSet,
        iterations: detail.config.iterations,
        iterationsDone: detail.iterations.filter((item) => item.iteration > 0 && item.finishedAt !== null).length,
        updatedAt: detail.updatedAt,
      })),
  );
  const rows = runs.map((entry) => [
    entry.id,
    entry.method,
    entry.status,
    entry.iterations === undefined ? '—' : `${entry.iterationsDone ?? 0}/${entry.iterations}`,
    entry.pairSet ?? entry.datasetId,
    entry.baseModelId,
  ]);
  output.result(
    runs,
    runs.length === 0 ? 'No runs in this workspace.' : table(['ID', 'METHOD', 'STATUS', 'ITER', 'DATA', 'BASE'], rows),
  );
  return EXIT_OK;
}

function describeRun(detail: RunDetail): string[] {
  const { config, position } = detail;
  const lines = [
    `Run ${detail.id} (${config.method}) ${detail.status}${detail.jobId ? ` (job ${detail.jobId})` : ''}`,
    `  base         ${config.baseModelId}`,
    `  pairs        ${config.pairSet}`,
    `  iterations   ${config.iterations}${config.seedWarmStart ? ' after the seed warm start' : ''}`,
    `  position     iteration ${position.iteration}, ${position.phase}, step ${position.step}`,
    `  β, lr        ${config.hyperparameters.beta}, ${config.hyperparameters.learningRate} (${config.hyperparameters.loss}, ${config.hyperparameters.optimizer})`,
  ];
  for (const summary of detail.iterations) {
    const margin = summary.eval?.['rewards/margins'];
    lines.push(
      `  phase ${summary.iteration}      ${summary.trainPairs}+${summary.testPairs} pairs, ${summary.steps} steps, ` +
        `model ${summary.modelId ?? '—'}${margin === undefined ? '' : `, held-out margin ${margin.toFixed(4)}`}` +
        (summary.finishedAt === null ? ' (unfinished)' : ''),
    );
  }
  if (detail.error !== null) lines.push(`  error        ${detail.error}`);
  for (const note of detail.notes) lines.push(`  note         ${note}`);
  return lines;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const format = (row: readonly string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/**
 * `drift-wb export` and `drift-wb import-run`: moving a preference run to a GPU cluster and back.
 *
 *   export --target trl --out DIR --run ID            compile a workspace run (its run.json) into a TRL bundle
 *   export --target trl --out DIR --config FILE       … a RunConfig JSON file (or a run.json)
 *   export --target trl --out DIR --method M --model ID --pairs REF   … a config made from these
 *   import-run DIR                                    read a finished bundle back as a run with its models
 *
 * Both are jobs (`run.export`, `run.import`); the bundle's README says what to run on the cluster.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { PreferenceMethod, RunConfig, type RunConfigInput } from '../../api/index.js';
import type { RunImportResult, TrlExportResult } from '../../engine/index.js';
import { withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { EXIT_OK, EXIT_USAGE, commandError } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';

interface ExportOptions {
  target: string;
  out: string;
  run?: string;
  config?: string;
  method?: string;
  model?: string;
  pairs?: string;
  name?: string;
  iterations?: string;
  accelerate: string;
  baseHub?: string;
  basePath?: string;
  copyBase?: boolean;
  paperScale?: boolean;
  nodes: string;
  gpusPerNode: string;
  overwrite?: boolean;
}

export function registerExport(program: Command, run: CommandRunner): void {
  program
    .command('export')
    .description('compile a preference run into a bundle for a distributed trainer (TRL + accelerate) (a job)')
    .requiredOption('--out <dir>', 'the bundle folder (new or empty)')
    .option('--target <name>', 'the trainer to compile for', 'trl')
    .option('--run <id>', 'a workspace run (it need not have trained)')
    .option('--config <file>', 'a RunConfig JSON file (or a run.json) instead of a run')
    .option('--method <method>', 'without a run: drift, iterdpo, spin or dpo')
    .option('--model <id>', 'without a run: the base model (a workspace model id)')
    .option('--pairs <ref>', 'without a run: the pair set (name or name@vK)')
    .option('--name <name>', 'without a run: the run’s name')
    .option('--iterations <n>', 'without a run: iterations after the seed warm start')
    .option('--accelerate <kind>', 'the default accelerate config: zero3 or fsdp', 'zero3')
    .option('--base-hub <id>', 'name the base model by this hub id')
    .option('--base-path <path>', 'name the base model by this path on the cluster')
    .option('--copy-base', 'copy the base model into the bundle even if it has a hub id')
    .option('--paper-scale', 'use the paper’s 7B settings (lr 5e-7, max_length 2048, 512 new tokens)')
    .option('--nodes <n>', 'Slurm nodes', '1')
    .option('--gpus-per-node <n>', 'GPUs per node', '8')
    .option('--overwrite', 'write into a folder that already holds files')
    .action((options: ExportOptions, command: Command) => run(command, (context) => exportCommand(options, context)));
  program
    .command('import-run')
    .description('read a finished TRL bundle back: a run with its metrics, and each iteration’s model (a job)')
    .argument('<dir>', 'the bundle folder (with bundle.json and outputs/iter-<k>/)')
    .option('--name <name>', 'the run’s name (default: the bundle’s, with “(TRL)”)')
    .option('--run-id <id>', 'the run’s id (default: from the name)')
    .option('--no-models', 'import the metrics only, not the checkpoints')
    .action((dir: string, options: { name?: string; runId?: string; models: boolean }, command: Command) =>
      run(command, (context) => importCommand(dir, options, context)),
    );
}

function usage(message: string): never {
  throw commandError('invalid_arguments', message, undefined, EXIT_USAGE);
}

function count(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) usage(`${flag} takes a whole number, not "${value}".`);
  return parsed;
}

async function configFromFile(file: string): Promise<RunConfigInput> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path.resolve(file), 'utf8'));
  } catch (error) {
    usage(`--config ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  const nested = (json as { config?: unknown } | null)?.config;
  const parsed = RunConfig.safeParse(nested ?? json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    usage(`--config ${file}: ${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

async function exportCommand(options: ExportOptions, { globals, output }: CommandContext): Promise<number> {
  if (options.target !== 'trl') usage(`--target ${options.target} is not supported; the only target is trl.`);
  const sources = [options.run, options.config, options.method ?? options.model ?? options.pairs].filter(
    (value) => value !== undefined,
  );
  if (sources.length !== 1) usage('Give one of --run, --config, or --method with --model and --pairs.');
  const params: Record<string, unknown> = {
    target: 'trl',
    outDir: path.resolve(options.out),
    overwrite: options.overwrite === true,
    accelerate: options.accelerate,
    paperScale: options.paperScale === true,
    nodes: count(options.nodes, '--nodes'),
    gpusPerNode: count(options.gpusPerNode, '--gpus-per-node'),
  };
  if ([options.baseHub, options.basePath, options.copyBase].filter(Boolean).length > 1) {
    usage('Give at most one of --base-hub, --base-path and --copy-base.');
  }
  if (options.baseHub !== undefined) params['baseModel'] = { kind: 'hub', id: options.baseHub };
  if (options.basePath !== undefined) params['baseModel'] = { kind: 'path', path: options.basePath };
  if (options.copyBase) params['baseModel'] = { kind: 'copy' };
  if (options.run !== undefined) params['runId'] = options.run;
  else if (options.config !== undefined) params['config'] = await configFromFile(options.config);
  else {
    if (!options.method || !options.model || !options.pairs) usage('--method, --model and --pairs go together.');
    const method = PreferenceMethod.safeParse(options.method);
    if (!method.success) usage(`--method ${options.method} is not one of ${PreferenceMethod.options.join(', ')}.`);
    const config: RunConfigInput = {
      name: options.name ?? `${options.method}-${options.pairs.replace('@', '-')}`,
      method: method.data,
      baseModelId: options.model,
      pairSet: options.pairs,
    };
    if (options.iterations !== undefined) config.iterations = count(options.iterations, '--iterations');
    params['config'] = RunConfig.parse(config);
  }
  const job = await withEngine(globals, 'cli', (engine) => runJobWithProgress(engine, 'run.export', params));
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `The export ${job.status}.`,
      job.error?.hint,
    );
  }
  const result = job.result as TrlExportResult;
  output.result(result, [
    `Wrote a TRL bundle for ${result.method} (${result.iterations} DPO steps) to ${result.outDir}`,
    `  ${result.files.length} files; data: ${Object.entries(result.counts)
      .map(([name, rows]) => `${name} ${rows}`)
      .join(', ')}`,
    `  base model: ${result.baseModel.kind} ${result.baseModel.reference}`,
    ...result.notes.map((note) => `  note: ${note}`),
    'On the cluster, in that folder:',
    ...result.commands.map((line) => `  ${line}`),
  ]);
  return EXIT_OK;
}

async function importCommand(
  dir: string,
  options: { name?: string; runId?: string; models: boolean },
  { globals, output }: CommandContext,
): Promise<number> {
  const params: Record<string, unknown> = { dir: path.resolve(dir), models: options.models };
  if (options.name !== undefined) params['name'] = options.name;
  if (options.runId !== undefined) params['runId'] = options.runId;
  const job = await withEngine(globals, 'cli', (engine) => runJobWithProgress(engine, 'run.import', params));
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `The import ${job.status}.`,
      job.error?.hint,
    );
  }
  const result = job.result as RunImportResult;
  const seconds = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : 0;
  output.result(
    {
      runId: result.runId,
      status: result.status,
      iterations: result.iterations,
      metricRows: result.metricRows,
      models: result.modelEntries,
      run: result.run,
      notes: result.notes,
    },
    [
      `Imported ${result.name} as run ${result.runId} (${result.status}) in ${formatDuration(seconds)}`,
      ...result.iterations.map(
        (item) =>
          `  iteration ${item.iteration}: ${item.steps} steps, ${item.trainPairs} train / ${item.testPairs} test pairs${
            item.modelId ? `, model ${item.modelId}` : ''
          }`,
      ),
      `  ${result.metricRows} metric rows`,
      ...result.notes.map((note) => `  note: ${note}`),
    ],
  );
  return EXIT_OK;
}

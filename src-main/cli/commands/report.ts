/**
 * `drift-wb report`: a report of one run or a comparison of runs (a `report.build` job).
 *
 *   report --run <id> [--evaluation FILE|ID] [--format html,pdf,md,json] [--out DIR]
 *   report --compare <id> <id>... [...]
 *
 * The report is written to `<workspace>/reports/<id>/` and recorded in the workspace; `--out`
 * also copies its files there (replacing files of the same names). PDF needs a Chromium
 * (CHROMIUM_PATH, or a system install).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ReportFormat, type ReportBuildParams } from '../../api/index.js';
import { exportReport, type ReportBuildResult } from '../../engine/index.js';
import { withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { commandError, EXIT_OK, EXIT_USAGE } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';

interface ReportOptions {
  run?: string;
  compare?: string[];
  evaluation?: string;
  format: string[];
  out?: string;
  title?: string;
  id?: string;
}

export function registerReport(program: Command, run: CommandRunner): void {
  program
    .command('report')
    .description('build a report of a run, or compare runs: HTML, PDF, Markdown with SVG charts, JSON (a job)')
    .option('--run <id>', 'the run to report on')
    .option('--compare <ids...>', 'two or more runs to compare (space- or comma-separated)')
    .option('--evaluation <file|id>', 'an evaluation to include: a result JSON file, or a workspace evaluation id')
    .option(
      '--format <formats>',
      'html, pdf, md, json: repeatable or comma-separated (default html,md,json)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--out <dir>', 'also copy the report’s files into this folder')
    .option('--title <title>', 'the report’s title')
    .option('--id <id>', 'the report’s id (default: from the runs and the time); an existing one is replaced')
    .action((options: ReportOptions, command: Command) => run(command, (context) => reportCommand(options, context)));
}

function parseFormats(values: string[]): ReportFormat[] {
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim().toLowerCase());
  const wanted = names.filter((name) => name !== '');
  if (wanted.length === 0) return ['html', 'md', 'json'];
  const unknown = wanted.filter((name) => !ReportFormat.safeParse(name).success);
  if (unknown.length > 0) {
    throw commandError(
      'invalid_arguments',
      `Unknown report format ${unknown.map((name) => `"${name}"`).join(', ')}.`,
      `Use ${ReportFormat.options.join(', ')} (repeat --format or separate them with commas).`,
      EXIT_USAGE,
    );
  }
  return [...new Set(wanted as ReportFormat[])];
}

function parseRuns(options: ReportOptions): string[] {
  const compared = (options.compare ?? []).flatMap((value) => value.split(',')).map((id) => id.trim());
  const ids = compared.filter((id) => id !== '');
  if (options.run !== undefined && ids.length > 0) {
    throw commandError('invalid_arguments', 'Pass either --run or --compare, not both.', undefined, EXIT_USAGE);
  }
  if (options.run !== undefined) return [options.run];
  if (ids.length < 2) {
    throw commandError(
      'invalid_arguments',
      ids.length === 0
        ? 'Name a run with --run <id>, or runs to compare with --compare <id> <id>.'
        : '--compare needs at least two runs.',
      undefined,
      EXIT_USAGE,
    );
  }
  return [...new Set(ids)];
}

async function isFile(candidate: string): Promise<boolean> {
  try {
    return (await stat(candidate)).isFile();
  } catch {
    return false;
  }
}

async function reportCommand(options: ReportOptions, { globals, output }: CommandContext): Promise<number> {
  const params: ReportBuildParams = { runIds: parseRuns(options), formats: parseFormats(options.format) };
  if (options.evaluation !== undefined) {
    // A path to an existing file is a file; anything else names a workspace evaluation.
    if (await isFile(options.evaluation)) params.evaluationFile = path.resolve(options.evaluation);
    else params.evaluationId = options.evaluation;
  }
  if (options.title !== undefined) params.title = options.title;
  if (options.id !== undefined) params.id = options.id;

  const { job, exported } = await withEngine(globals, 'cli', async (engine) => {
    const job = await runJobWithProgress(engine, 'report.build', params as Record<string, unknown>);
    if (job.status !== 'succeeded' || options.out === undefined) return { job, exported: null };
    const result = job.result as ReportBuildResult;
    return { job, exported: await exportReport(globals.workspace, result.id, options.out, { overwrite: true }) };
  });
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `The report job ${job.status}.`,
      job.error?.hint,
    );
  }
  const result = job.result as ReportBuildResult;
  const folder = path.join(globals.workspace, ...result.folder.split('/'));
  const seconds =
    job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : null;
  const lines = [
    `Built report ${result.id}: ${result.title}`,
    `  folder    ${folder}`,
    `  formats   ${result.formats.join(', ')}`,
    `  files     ${result.files.length}${seconds === null ? '' : ` in ${formatDuration(seconds)}`}`,
  ];
  if (exported) lines.push(`  copied to ${exported.destDir}`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  output.result(
    {
      id: result.id,
      title: result.title,
      kind: result.kind,
      runIds: result.runIds,
      formats: result.formats,
      folder,
      files: result.files,
      outDir: exported?.destDir ?? null,
      warnings: result.warnings,
    },
    lines,
  );
  return EXIT_OK;
}

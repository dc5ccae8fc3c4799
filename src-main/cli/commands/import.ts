/**
 * `drift-wb import <path...>`: imports chat logs or preference data (files or folders) into a
 * new dataset, as the `dataset.import` job with progress on stderr; Ctrl+C cancels and leaves
 * the workspace as it was. `drift-wb formats` lists the formats `--format` accepts.
 */
import type { Command } from 'commander';
import type { ImportReport, Job } from '../../api/index.js';
import { listFormats, parseMapping, type ImportParams, type ImportResult } from '../../engine/index.js';
import { call, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { commandError, EXIT_OK, EXIT_USAGE } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';

interface ImportOptions {
  format?: string;
  map: string[];
  redact?: boolean;
  name?: string;
  language: boolean;
}

const SHOWN_ERRORS = 10;

export function registerImport(program: Command, run: CommandRunner): void {
  program
    .command('import')
    .description(
      'import chat logs or preference data (JSON, JSONL, CSV, TSV, Parquet, .gz, folders) as a dataset (a job)',
    )
    .argument('<paths...>', 'files or folders to import')
    .option('--format <name>', 'read every file as this format instead of detecting it (see `drift-wb formats`)')
    .option(
      '--map <target=path>',
      'map a field for an unknown shape, e.g. --map prompt=question --map chosen=answers.0.text (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--redact', 'replace e-mails, phones, card numbers, IPs and secrets by placeholders such as <EMAIL>')
    .option('--name <name>', 'dataset name (default: the first file or folder name)')
    .option('--no-language', 'skip language detection')
    .action((paths: string[], options: ImportOptions, command: Command) =>
      run(command, (context) => importCommand(paths, options, context)),
    );
  program
    .command('formats')
    .description('list the import formats and their aliases')
    .action((_options: unknown, command: Command) =>
      run(command, async ({ output }) => {
        const formats = listFormats();
        const lines = formats.map(
          (format) =>
            `${format.name.padEnd(26)}${format.label}${format.aliases.length ? ` (also: ${format.aliases.join(', ')})` : ''}`,
        );
        output.result(formats, lines);
        return EXIT_OK;
      }),
    );
}

async function importCommand(
  paths: string[],
  options: ImportOptions,
  { globals, output }: CommandContext,
): Promise<number> {
  const params: ImportParams = { paths, language: options.language };
  if (options.format) {
    const known = listFormats().some(
      (format) => format.name === options.format || format.aliases.includes(options.format!),
    );
    if (!known) {
      throw commandError(
        'format_unknown',
        `Unknown format "${options.format}".`,
        'Run `drift-wb formats` to list them.',
        EXIT_USAGE,
      );
    }
    params.format = options.format;
  }
  if (options.map.length > 0) params.map = parseMapping(options.map);
  if (options.redact) params.redact = true;
  if (options.name) params.name = options.name;

  const { job, report } = await withEngine(globals, 'cli', async (engine, handlers) => {
    const job = await runJobWithProgress(engine, 'dataset.import', params as Record<string, unknown>);
    if (job.status !== 'succeeded') return { job, report: null };
    const { datasetId } = job.result as ImportResult;
    const { report } = await call(handlers, 'dataset:get', { id: datasetId });
    return { job, report };
  });
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `The import ${job.status}.`,
      job.error?.hint,
    );
  }
  const result = job.result as ImportResult;
  output.result(summary(result, report, job), describe(result, report, job));
  return EXIT_OK;
}

/** The `--json` document: the fields the issue names first, then the facets. */
function summary(result: ImportResult, report: ImportReport | null, job: Job): Record<string, unknown> {
  const errors = report?.errors ?? [];
  return {
    datasetId: result.datasetId,
    name: result.name,
    format: result.format,
    formats: report?.formats ?? { [result.format]: result.conversations },
    conversations: result.conversations,
    messages: result.messages,
    rejected: result.rejected,
    duplicates: result.duplicates,
    errors: errors.map((error) => ({
      file: error.file,
      line: error.line,
      ...(error.row !== undefined ? { row: error.row } : {}),
      byteOffset: error.byteOffset,
      code: error.code,
      message: error.message,
    })),
    errorCounts: result.errorCounts,
    errorsTruncated: report?.errorsTruncated ?? false,
    languages: result.languages,
    pii: result.piiCounts,
    redacted: result.redacted,
    files: report?.files.map(({ relative, format, rows, conversations, rejected }) => ({
      file: relative,
      format,
      rows,
      conversations,
      rejected,
    })),
    reportPath: result.reportPath,
    durationMs: result.durationMs,
    jobId: job.id,
  };
}

function describe(result: ImportResult, report: ImportReport | null, job: Job): string[] {
  const seconds = result.durationMs / 1000;
  const rate = seconds > 0 ? ` (${(result.bytes / 1e6 / seconds).toFixed(1)} MB/s)` : '';
  const lines = [
    `Imported ${result.conversations} conversations (${result.messages} messages) as dataset ${result.datasetId}`,
    `  format      ${Object.entries(report?.formats ?? { [result.format]: result.conversations })
      .map(([name, count]) => `${name} ${count}`)
      .join(', ')}`,
    `  time        ${formatDuration(seconds)}${rate}, job ${job.id}`,
    `  rejected    ${result.rejected}${result.rejected > 0 ? ` (${countsText(result.errorCounts)})` : ''}`,
    `  duplicates  ${result.duplicates}`,
    `  languages   ${topLanguages(result.languages, result.conversations)}`,
    `  personal    ${countsText(result.piiCounts) || 'none found'}${result.redacted ? ' (redacted)' : ''}`,
    `  report      ${result.reportPath}`,
  ];
  const errors = report?.errors ?? [];
  for (const error of errors.slice(0, SHOWN_ERRORS)) {
    const where = error.line !== null ? `:${error.line}` : error.row !== undefined ? ` row ${error.row}` : '';
    lines.push(`  ${error.file}${where}  [${error.code}] ${error.message}`);
  }
  if (result.rejected > SHOWN_ERRORS) lines.push(`  … ${result.rejected - SHOWN_ERRORS} more in the report`);
  return lines;
}

/** `email 3, phone 1` */
function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([key, count]) => `${key} ${count}`)
    .join(', ');
}

function topLanguages(languages: Record<string, number>, total: number): string {
  const sorted = Object.entries(languages).sort((a, b) => b[1] - a[1]);
  if (sorted.length === 0) return 'not detected';
  const shown = sorted.slice(0, 5).map(([code, count]) => `${code} ${Math.round((100 * count) / Math.max(1, total))}%`);
  return sorted.length > 5 ? `${shown.join(', ')}, +${sorted.length - 5} more` : shown.join(', ');
}

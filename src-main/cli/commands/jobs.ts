/** `drift-wb jobs list` and `drift-wb jobs show <id>`: the workspace's job records. */
import type { Command } from 'commander';
import type { Job } from '../../api/index.js';
import { call, withEngine, type CommandRunner } from '../context.js';
import { EXIT_OK } from '../output.js';
import { describeProgress } from '../progress.js';

export function registerJobs(program: Command, run: CommandRunner): void {
  const jobs = program.command('jobs').description('list and inspect jobs recorded in the workspace');
  jobs
    .command('list')
    .description('list the jobs recorded in the workspace')
    .action((_options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const list = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'job:list', {}));
        output.result(list, list.length === 0 ? 'No jobs in this workspace.' : jobTable(list));
        return EXIT_OK;
      }),
    );
  jobs
    .command('show')
    .description('show one job: status, progress, result or error')
    .argument('<id>', 'job id (from `drift-wb jobs list`)')
    .action((id: string, _options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const job = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'job:get', { id }));
        output.result(job, describeJob(job));
        return EXIT_OK;
      }),
    );
}

/** A job as lines for a person: a title line, then progress, times, result or error. */
export function describeJob(job: Job): string[] {
  const lines = [`${job.id}  ${job.kind}  ${job.status}`, `  progress  ${describeProgress(job)}`];
  lines.push(`  created   ${job.createdAt}`);
  if (job.startedAt) lines.push(`  started   ${job.startedAt}`);
  if (job.finishedAt) lines.push(`  finished  ${job.finishedAt}`);
  if (job.result !== undefined) lines.push('  result', ...describeValue(job.result, '    '));
  if (job.error) lines.push(`  error     [${job.error.code}] ${job.error.message}`);
  return lines;
}

function jobTable(list: readonly Job[]): string[] {
  const rows = list.map((job) => [job.id, job.kind, job.status, describeProgress(job), job.createdAt]);
  const header = ['ID', 'KIND', 'STATUS', 'PROGRESS', 'CREATED'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const format = (row: readonly string[]) =>
    row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [format(header), ...rows.map(format)];
}

const MAX_LISTED_ITEMS = 20;

/**
 * Any JSON result as aligned `key  value` lines; an array of records gets one `k=v` line per
 * record. Job results differ by kind, and this keeps each readable without a printer per kind.
 */
export function describeValue(value: unknown, indent: string): string[] {
  if (!isRecord(value)) return [`${indent}${formatScalar(value)}`];
  const entries = Object.entries(value);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  const lines: string[] = [];
  for (const [key, entry] of entries) {
    if (Array.isArray(entry) && entry.some(isRecord)) {
      lines.push(`${indent}${key} (${entry.length})`);
      for (const item of entry.slice(0, MAX_LISTED_ITEMS)) {
        const text = isRecord(item)
          ? Object.entries(item)
              .map(([name, field]) => `${name}=${formatScalar(field)}`)
              .join(' ')
          : formatScalar(item);
        lines.push(`${indent}  ${text}`);
      }
      if (entry.length > MAX_LISTED_ITEMS) lines.push(`${indent}  … ${entry.length - MAX_LISTED_ITEMS} more`);
    } else {
      lines.push(`${indent}${key.padEnd(width)}  ${formatScalar(entry)}`);
    }
  }
  return lines;
}

function formatScalar(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && !value.some((item) => typeof item === 'object' && item !== null)) {
    return `[${value.map(formatScalar).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value);
    return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
  }
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `drift-wb selftest`: runs the `selftest.gradients` job (analytic against numerical gradients on
 * the backend this machine picks) with progress on stderr. Exit code 0 only if it succeeded.
 */
import type { Command } from 'commander';
import type { Job } from '../../api/index.js';
import { withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, formatError } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';
import { describeJob } from './jobs.js';

export function registerSelftest(program: Command, run: CommandRunner): void {
  program
    .command('selftest')
    .description('check the compute backend: compare analytic and numerical gradients (a job)')
    .action((_options: unknown, command: Command) => run(command, selftest));
}

async function selftest({ globals, output }: CommandContext): Promise<number> {
  const job = await withEngine(globals, 'cli', (engine) => runJobWithProgress(engine, 'selftest.gradients', {}));
  const lines = [`${job.kind} ${job.status}${elapsed(job)} (job ${job.id})`, ...describeJob(job).slice(1)];
  output.result(job, lines);
  if (job.error) output.note(formatError(job.error).trimEnd());
  return job.status === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
}

function elapsed(job: Job): string {
  if (!job.startedAt || !job.finishedAt) return '';
  const seconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000;
  return Number.isFinite(seconds) ? ` in ${formatDuration(seconds)}` : '';
}

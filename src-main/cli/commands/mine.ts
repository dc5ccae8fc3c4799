/**
 * `drift-wb mine --dataset ID`: runs the `signals.mine` job (SAT/DSAT detection, DSAT pairs, seed
 * pairs, SAT records) with progress on stderr; Ctrl+C cancels and keeps the previous results.
 * `--json` prints `{dsat, sat, both, byCategory, pairs, seedPairs, satRecords, ...}` and, when the
 * data carries labels, each detector's agreement with them.
 */
import type { Command } from 'commander';
import {
  DETECTORS,
  type DetectorName,
  type Job,
  type MineParamsInput,
  type MineResult,
  type MiningReport,
} from '../../api/index.js';
import { call, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { commandError, EXIT_OK, EXIT_USAGE } from '../output.js';
import { formatDuration, runJobWithProgress } from '../progress.js';

interface MineOptions {
  dataset: string;
  detectors: string;
  classifier?: string;
  minConfidence?: string;
  rephraseThreshold?: string;
  seedPairs: boolean;
  satRecords: boolean;
  preference: boolean;
}

export function registerMine(program: Command, run: CommandRunner): void {
  program
    .command('mine')
    .description('detect SAT/DSAT signals in a dataset and build DSAT pairs, seed pairs and SAT records (a job)')
    .requiredOption('--dataset <id>', 'dataset id (from `drift-wb import` or the Import view)')
    .option('--detectors <list>', 'detectors in priority order: labels, rules, classifier', 'labels,rules')
    .option('--classifier <id>', 'classifier for the classifier detector (see `drift-wb classifier list`)')
    .option('--min-confidence <number>', 'signals below this confidence make no pair (0-1, default 0.5)')
    .option(
      '--rephrase-threshold <number>',
      'similarity of consecutive user turns that counts as a rephrase (default 0.6)',
    )
    .option('--no-seed-pairs', 'do not look for later answers that drew SAT (no seed pairs)')
    .option('--no-sat-records', 'do not write SAT records')
    .option('--no-preference', 'do not turn preference rows (UltraFeedback, HH-RLHF, ...) into DSAT pairs')
    .action((options: MineOptions, command: Command) => run(command, (context) => mineCommand(options, context)));
}

function fraction(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number > 1) {
    throw commandError(
      'invalid_arguments',
      `${flag} must be a number between 0 and 1, not "${value}".`,
      undefined,
      EXIT_USAGE,
    );
  }
  return number;
}

/** Parses `--detectors a,b` into known detector names, in order. */
export function parseDetectors(list: string): DetectorName[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(DETECTORS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw commandError(
      'invalid_arguments',
      `Unknown detector ${unknown.map((name) => `"${name}"`).join(', ') || '(none given)'}.`,
      `Use a comma-separated list of ${DETECTORS.join(', ')}.`,
      EXIT_USAGE,
    );
  }
  return names as DetectorName[];
}

async function mineCommand(options: MineOptions, { globals, output }: CommandContext): Promise<number> {
  const params: MineParamsInput = {
    datasetId: options.dataset,
    detectors: parseDetectors(options.detectors),
    seedPairs: options.seedPairs,
    satRecords: options.satRecords,
    preference: { enabled: options.preference },
  };
  if (options.classifier) params.classifierId = options.classifier;
  const minConfidence = fraction(options.minConfidence, '--min-confidence');
  if (minConfidence !== undefined) params.minConfidence = minConfidence;
  const rephrase = fraction(options.rephraseThreshold, '--rephrase-threshold');
  if (rephrase !== undefined) params.rephraseThreshold = rephrase;
  if (params.detectors?.includes('classifier') && !options.classifier) {
    throw commandError('invalid_arguments', 'The classifier detector needs --classifier <id>.', undefined, EXIT_USAGE);
  }

  const { job, report } = await withEngine(globals, 'cli', async (engine, handlers) => {
    const job = await runJobWithProgress(engine, 'signals.mine', params as Record<string, unknown>);
    if (job.status !== 'succeeded') return { job, report: null };
    return { job, report: await call(handlers, 'signals:report', { datasetId: options.dataset }) };
  });
  if (job.status !== 'succeeded') {
    throw commandError(
      (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
      job.error?.message ?? `Mining ${job.status}.`,
      job.error?.hint,
    );
  }
  const result = job.result as MineResult;
  output.result(summary(result, report, job), describe(result, report, job));
  return EXIT_OK;
}

/** The `--json` document: the fields the issue names first. */
export function summary(result: MineResult, report: MiningReport | null, job: Job): Record<string, unknown> {
  return {
    datasetId: result.datasetId,
    dsat: result.counts.dsat,
    sat: result.counts.sat,
    both: result.counts.both,
    byCategory: result.byCategory,
    pairs: result.counts.pairs,
    seedPairs: result.counts.seedPairs,
    satRecords: result.counts.satRecords,
    conversations: result.counts.conversations,
    conversationsWithDsat: result.counts.conversationsWithDsat,
    judgedTurns: result.counts.judgedTurns,
    signals: result.counts.signals,
    unreadable: result.counts.unreadable,
    detectors: report?.detectors ?? [],
    byDetector: report?.byDetector ?? {},
    pairsBySource: report?.pairsBySource ?? {},
    labelledTurns: result.labelledTurns,
    agreement: (report?.agreement ?? []).map((row) => ({
      detector: row.detector,
      turns: row.turns,
      accuracy: row.accuracy,
      kappa: row.kappa,
      dsat: row.polarity.dsat,
      sat: row.polarity.sat,
      confusion: row.confusion,
    })),
    reportPath: result.reportPath,
    durationMs: report?.durationMs ?? null,
    jobId: job.id,
  };
}

const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);
const decimal = (value: number | null) => (value === null ? '-' : value.toFixed(3));

function describe(result: MineResult, report: MiningReport | null, job: Job): string[] {
  const { counts } = result;
  const seconds = (report?.durationMs ?? 0) / 1000;
  const categories = Object.entries(result.byCategory)
    .sort((a, b) => b[1] - a[1])
    .map(([category, count]) => `${category} ${count}`)
    .join(', ');
  const lines = [
    `Mined ${counts.conversations} conversations of dataset ${result.datasetId} (${counts.judgedTurns} judged turns)`,
    `  DSAT        ${counts.dsat} turns in ${counts.conversationsWithDsat} conversations`,
    `  SAT         ${counts.sat} turns (${counts.both} both)`,
    `  categories  ${categories || 'none'}`,
    `  pairs       ${counts.pairs} (${counts.seedPairs} seed pairs with a chosen answer)`,
    `  SAT records ${counts.satRecords}`,
    `  time        ${formatDuration(seconds)}, job ${job.id}`,
    `  report      ${result.reportPath}`,
  ];
  if (counts.unreadable > 0) lines.push(`  unreadable  ${counts.unreadable} lines skipped`);
  for (const row of report?.agreement ?? []) {
    lines.push(
      `  ${row.detector} vs labels on ${row.turns} turns: accuracy ${percent(row.accuracy)}, kappa ${decimal(row.kappa)}; ` +
        `DSAT P ${percent(row.polarity.dsat.precision)} R ${percent(row.polarity.dsat.recall)} F1 ${decimal(row.polarity.dsat.f1)}; ` +
        `SAT P ${percent(row.polarity.sat.precision)} R ${percent(row.polarity.sat.recall)} F1 ${decimal(row.polarity.sat.f1)}`,
    );
  }
  return lines;
}

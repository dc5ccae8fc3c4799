/**
 * `drift-wb pairs ...`: curated DSAT pairs headless.
 * - `pairs list --dataset ID`: counts and the first pairs matching a filter;
 * - `pairs decide --dataset ID --status accepted [--id ...|filter]` and `pairs undo --dataset ID`;
 * - `pairs freeze --dataset ID --name N [filter]`: freezes a versioned pair set (`N@vK`);
 * - `pairs sets`: the pair sets of the workspace;
 * - `pairs export --dataset ID|--pairset N@vK --format drift|trl [--out DIR]`.
 * `drift-wb classifier train|list` trains and lists SAT/DSAT classifiers.
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  CATEGORIES,
  DecisionStatus,
  type ClassifierInfo,
  type PairFilter,
  type PairSetEntry,
} from '../../api/index.js';
import { call, withEngine, type CommandRunner } from '../context.js';
import { commandError, EXIT_OK, EXIT_USAGE } from '../output.js';
import { createProgressDisplay } from '../progress.js';
import { parseDetectors } from './mine.js';

interface FilterOptions {
  status?: string;
  category?: string;
  detector?: string;
  language?: string;
  query?: string;
  tag?: string;
  minConfidence?: string;
  seedOnly?: boolean;
}

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '') ?? [];

function usage(message: string): never {
  throw commandError('invalid_arguments', message, undefined, EXIT_USAGE);
}

/** Builds a pair filter from the shared filter flags. */
export function filterOf(options: FilterOptions): PairFilter {
  const filter: PairFilter = {};
  const statuses = list(options.status);
  for (const status of statuses)
    if (!DecisionStatus.options.includes(status as never)) usage(`Unknown status "${status}".`);
  if (statuses.length > 0) filter.statuses = statuses as PairFilter['statuses'];
  const categories = list(options.category);
  for (const category of categories)
    if (!(CATEGORIES as readonly string[]).includes(category)) usage(`Unknown category "${category}".`);
  if (categories.length > 0) filter.categories = categories as PairFilter['categories'];
  if (options.detector) filter.detectors = parseDetectors(options.detector);
  if (options.language) filter.languages = list(options.language);
  if (options.query) filter.query = options.query;
  if (options.tag) filter.tags = list(options.tag);
  if (options.minConfidence !== undefined) {
    const value = Number(options.minConfidence);
    if (!Number.isFinite(value) || value < 0 || value > 1) usage('--min-confidence must be between 0 and 1.');
    filter.confidenceMin = value;
  }
  if (options.seedOnly) filter.kinds = ['seed'];
  return filter;
}

function withFilterOptions(command: Command): Command {
  return command
    .option('--status <list>', 'decision statuses: pending, accepted, rejected (comma-separated)')
    .option('--category <list>', 'rubric categories, e.g. revision,factual_error')
    .option('--detector <list>', 'detectors: labels, rules, classifier')
    .option('--language <list>', 'languages (ISO 639-1)')
    .option('--query <text>', 'full-text search in the feedback, rejected answer and last request')
    .option('--tag <list>', 'pairs with any of these tags')
    .option('--min-confidence <number>', 'lowest confidence')
    .option('--seed-only', 'only seed pairs (with a chosen answer)');
}

function describeSet(entry: PairSetEntry): string {
  return `${entry.id.padEnd(28)} ${String(entry.pairs).padStart(7)} pairs  ${String(entry.seedPairs).padStart(6)} seed  dataset ${entry.datasetId}  ${entry.createdAt}`;
}

export function registerPairs(program: Command, run: CommandRunner): void {
  const pairs = program.command('pairs').description('curate, freeze and export DSAT pairs');

  withFilterOptions(
    pairs
      .command('list')
      .description('count the pairs matching a filter and show the first ones')
      .requiredOption('--dataset <id>', 'dataset id')
      .option('--limit <n>', 'pairs to show', '20'),
  ).action((options: FilterOptions & { dataset: string; limit: string }, command: Command) =>
    run(command, async ({ globals, output }) => {
      const limit = Math.max(1, Math.min(1000, Number(options.limit) || 20));
      const result = await withEngine(globals, 'cli', (_engine, handlers) =>
        call(handlers, 'pair:list', { datasetId: options.dataset, filter: filterOf(options), limit }),
      );
      const lines = [
        `${result.total} of ${result.all} pairs match`,
        ...result.items.map(
          (item) =>
            `${item.id}  ${item.decision.status.padEnd(8)} ${item.kind.padEnd(4)} ${item.confidence.toFixed(2)} ${item.categories.join(',') || '-'}  ${JSON.stringify(item.feedbackPreview.slice(0, 60))}`,
        ),
      ];
      output.result(result, lines);
      return EXIT_OK;
    }),
  );

  withFilterOptions(
    pairs
      .command('decide')
      .description('accept, reject or tag pairs (listed by --id, or every pair matching the filter)')
      .requiredOption('--dataset <id>', 'dataset id')
      .option('--id <list>', 'pair ids (comma-separated); without it the filter selects the pairs')
      .option('--set <status>', 'new status: accepted, rejected or pending')
      .option('--add-tag <list>', 'tags to add')
      .option('--note <text>', 'a note'),
  ).action(
    (
      options: FilterOptions & { dataset: string; id?: string; set?: string; addTag?: string; note?: string },
      command: Command,
    ) =>
      run(command, async ({ globals, output }) => {
        if (options.set !== undefined && !DecisionStatus.options.includes(options.set as never)) {
          usage(`Unknown status "${options.set}".`);
        }
        const request = {
          datasetId: options.dataset,
          ...(options.id ? { pairIds: list(options.id) } : { filter: filterOf(options) }),
          ...(options.set ? { status: options.set as DecisionStatus } : {}),
          ...(options.addTag ? { addTags: list(options.addTag) } : {}),
          ...(options.note !== undefined ? { note: options.note } : {}),
        };
        const result = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'pair:decide', request));
        output.result(result, `${result.updated} pairs changed${result.batch ? ` (batch ${result.batch})` : ''}`);
        return EXIT_OK;
      }),
  );

  pairs
    .command('undo')
    .description('revert the latest decision batch')
    .requiredOption('--dataset <id>', 'dataset id')
    .action((options: { dataset: string }, command: Command) =>
      run(command, async ({ globals, output }) => {
        const result = await withEngine(globals, 'cli', (_engine, handlers) =>
          call(handlers, 'pair:undo', { datasetId: options.dataset }),
        );
        output.result(
          result,
          result.batch ? `Restored ${result.restored} pairs (batch ${result.batch})` : 'Nothing to undo.',
        );
        return EXIT_OK;
      }),
    );

  withFilterOptions(
    pairs
      .command('freeze')
      .description('freeze the pairs matching the filter (edits applied) as the next version of a named pair set')
      .requiredOption('--dataset <id>', 'dataset id')
      .requiredOption('--name <name>', 'pair set name ([A-Za-z0-9._-])'),
  ).action((options: FilterOptions & { dataset: string; name: string }, command: Command) =>
    run(command, async ({ globals, output }) => {
      const entry = await withEngine(globals, 'cli', (_engine, handlers) =>
        call(handlers, 'pairset:freeze', { datasetId: options.dataset, name: options.name, filter: filterOf(options) }),
      );
      output.result(entry, [
        `Froze ${entry.pairs} pairs (${entry.seedPairs} seed) as ${entry.id}`,
        `  path      ${entry.path}`,
        `  sha256    ${entry.checksum}`,
      ]);
      return EXIT_OK;
    }),
  );

  pairs
    .command('sets')
    .description('list the frozen pair sets')
    .action((_options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const sets = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'pairset:list', {}));
        output.result(sets, sets.length === 0 ? 'No pair sets in this workspace.' : sets.map(describeSet));
        return EXIT_OK;
      }),
    );

  withFilterOptions(
    pairs
      .command('export')
      .description(
        'write DRIFT files (dsat_data.jsonl, seed-data/, sat_data.jsonl) or TRL files (preference.jsonl, unpaired.jsonl)',
      )
      .option('--dataset <id>', 'export a dataset’s pairs (filtered)')
      .option('--pairset <name@vK>', 'export a frozen pair set')
      .requiredOption('--format <format>', 'drift or trl')
      .option('--out <dir>', 'output folder (default: a new folder under <workspace>/exports)')
      .option('--no-sat', 'leave SAT records out')
      .option('--seed-test-size <n>', 'seed pairs written to seed-data/test.jsonl (drift)', '1')
      .option('--overwrite', 'write into a folder that already holds files'),
  ).action(
    (
      options: FilterOptions & {
        dataset?: string;
        pairset?: string;
        format: string;
        out?: string;
        sat: boolean;
        seedTestSize: string;
        overwrite?: boolean;
      },
      command: Command,
    ) =>
      run(command, async ({ globals, output }) => {
        if ((options.dataset === undefined) === (options.pairset === undefined))
          usage('Give either --dataset or --pairset.');
        if (options.format !== 'drift' && options.format !== 'trl')
          usage(`--format must be drift or trl, not "${options.format}".`);
        const seedTestSize = Number(options.seedTestSize);
        if (!Number.isInteger(seedTestSize) || seedTestSize < 0) usage('--seed-test-size must be a whole number.');
        const request = {
          format: options.format,
          includeSat: options.sat,
          seedTestSize,
          overwrite: options.overwrite === true,
          ...(options.dataset
            ? { datasetId: options.dataset, filter: filterOf(options) }
            : { pairSet: options.pairset! }),
          ...(options.out ? { outDir: path.resolve(options.out) } : {}),
        } as const;
        const result = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'pair:export', request));
        output.result(result, [
          `Exported ${options.format} files to ${result.outDir}`,
          ...result.files.map((file) => `  ${path.relative(result.outDir, file.path).padEnd(24)} ${file.rows} rows`),
        ]);
        return EXIT_OK;
      }),
  );

  const classifier = program.command('classifier').description('train and list SAT/DSAT classifiers');
  classifier
    .command('train')
    .description('train a classifier from imported labels or curation decisions (a job)')
    .requiredOption('--dataset <list>', 'dataset ids (comma-separated)')
    .option(
      '--source <source>',
      'labels (imported SAT/DSAT and KTO labels) or decisions (accepted/rejected pairs)',
      'labels',
    )
    .option('--id <id>', 'classifier id')
    .option('--epochs <n>', 'training epochs', '20')
    .action((options: { dataset: string; source: string; id?: string; epochs: string }, command: Command) =>
      run(command, async ({ globals, output }) => {
        if (options.source !== 'labels' && options.source !== 'decisions')
          usage('--source must be labels or decisions.');
        const params: Record<string, unknown> = {
          datasetIds: list(options.dataset),
          source: options.source,
          epochs: Number(options.epochs),
        };
        if (options.id) params['id'] = options.id;
        const progress = createProgressDisplay();
        const job = await withEngine(globals, 'cli', (engine) =>
          engine.runJob('signals.train', params, { onUpdate: (update) => progress.update(update) }),
        ).finally(() => progress.stop());
        if (job.status !== 'succeeded') {
          throw commandError(
            (job.error?.code ?? 'job_failed') as Parameters<typeof commandError>[0],
            job.error?.message ?? `Training ${job.status}.`,
            job.error?.hint,
          );
        }
        const info = job.result as ClassifierInfo;
        output.result(info, [
          `Trained classifier ${info.id} on ${info.trainExamples} of ${info.examples} labelled turns`,
          `  held out   ${info.heldOut.examples} turns: DSAT accuracy ${fmt(info.heldOut.dsatAccuracy)} (majority ${fmt(info.heldOut.dsatMajority)}), SAT accuracy ${fmt(info.heldOut.satAccuracy)} (majority ${fmt(info.heldOut.satMajority)})`,
        ]);
        return EXIT_OK;
      }),
    );
  classifier
    .command('list')
    .description('list the trained classifiers')
    .action((_options: unknown, command: Command) =>
      run(command, async ({ globals, output }) => {
        const found = await withEngine(globals, 'cli', (_engine, handlers) => call(handlers, 'classifier:list', {}));
        output.result(
          found,
          found.length === 0
            ? 'No classifiers in this workspace.'
            : found.map(
                (info) =>
                  `${info.id.padEnd(30)} ${info.source.padEnd(9)} ${info.examples} turns  DSAT acc ${fmt(info.heldOut.dsatAccuracy)}`,
              ),
        );
        return EXIT_OK;
      }),
    );
}

const fmt = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);

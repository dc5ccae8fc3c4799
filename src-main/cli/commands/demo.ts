/**
 * `drift-wb demo [--quick] [--seeds N] --workspace DIR [--json]` (and `npm run demo`): the embedded
 * demo end to end on the workspace — import the simulated deployment's logs, mine, freeze the pair
 * set, import the base model, train DRIFT, IterDPO and SPIN, evaluate every checkpoint on held-out
 * simulated tasks with the gold checker, and write the report. Progress on stderr; Ctrl+C cancels.
 */
import type { Command } from 'commander';
import { PreferenceHyperparameters, PreferenceMethod } from '../../api/index.js';
import { runDemo, type DemoCheckpointResult, type DemoHyperparameters, type DemoResult } from '../../engine/index.js';
import { withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { EXIT_OK, EXIT_USAGE, commandError } from '../output.js';
import { createProgressDisplay, formatDuration } from '../progress.js';

interface DemoCommandOptions {
  quick?: boolean;
  seeds: string;
  resources?: string;
  pdf?: boolean;
  methods?: string;
  lr?: string;
  beta?: string;
  rpoAlpha?: string;
}

export function registerDemo(program: Command, run: CommandRunner): void {
  program
    .command('demo')
    .description('run the embedded demo end to end: import, mine, DRIFT and baselines, evaluation, report')
    .option('--quick', 'a short version (150 records, one iteration, DRIFT only): about a minute on 2 cores')
    .option('--seeds <n>', 'seeds per method (DRIFT’s gain is judged against its spread across seeds)', '1')
    .option('--methods <list>', 'the methods to train, comma-separated (default: drift,iterdpo,spin; quick: drift)')
    .option('--resources <dir>', 'the demo resources (default: resources/demo)')
    .option('--lr <rate>', 'the DPO learning rate of every run (default: the run form’s, 5e-5)')
    .option('--beta <beta>', 'DPO’s β (default 0.1, the paper’s)')
    .option('--rpo-alpha <alpha>', 'the weight of the chosen answer’s NLL (default 0.001, the paper’s)')
    .option('--pdf', 'also write the report as PDF (needs Chromium)')
    .action((options: DemoCommandOptions, command: Command) =>
      run(command, (context) => demoCommand(options, context)),
    );
}

async function demoCommand(options: DemoCommandOptions, { globals, output }: CommandContext): Promise<number> {
  const seeds = Number(options.seeds);
  if (!Number.isSafeInteger(seeds) || seeds < 1 || seeds > 5) {
    throw commandError('invalid_arguments', `--seeds takes 1 to 5, not "${options.seeds}".`, undefined, EXIT_USAGE);
  }
  const methods = options.methods?.split(',').map((method) => method.trim());
  for (const method of methods ?? []) {
    if (!PreferenceMethod.safeParse(method).success) {
      throw commandError(
        'invalid_arguments',
        `--methods: "${method}" is not one of ${PreferenceMethod.options.join(', ')}.`,
        undefined,
        EXIT_USAGE,
      );
    }
  }
  const hyperparameters = demoHyperparameters(options);
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const progress = createProgressDisplay();
  try {
    const result = await withEngine(globals, 'cli', (engine) =>
      runDemo(engine, {
        quick: options.quick === true,
        seeds,
        ...(methods ? { methods: methods as PreferenceMethod[] } : {}),
        ...(options.resources ? { resourcesDir: options.resources } : {}),
        hyperparameters,
        reportFormats: options.pdf ? ['html', 'md', 'json', 'pdf'] : ['html', 'md', 'json'],
        signal: controller.signal,
        onStep: (step) => {
          progress.stop();
          process.stderr.write(`[${step.index}/${step.total}] ${step.title}\n`);
        },
        onProgress: (_step, job) => progress.update(job),
      }),
    );
    progress.stop();
    output.result(summaryOf(result), describe(result));
    return EXIT_OK;
  } finally {
    progress.stop();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** --lr, --beta and --rpo-alpha, checked as the run form checks them. */
function demoHyperparameters(options: DemoCommandOptions): DemoHyperparameters {
  const given = {
    ...(options.lr !== undefined ? { learningRate: Number(options.lr) } : {}),
    ...(options.beta !== undefined ? { beta: Number(options.beta) } : {}),
    ...(options.rpoAlpha !== undefined ? { rpoAlpha: Number(options.rpoAlpha) } : {}),
  };
  const checked = PreferenceHyperparameters.pick({ learningRate: true, beta: true, rpoAlpha: true })
    .partial()
    .safeParse(given);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const flag = { learningRate: '--lr', beta: '--beta', rpoAlpha: '--rpo-alpha' }[String(issue?.path[0])] ?? 'option';
    throw commandError('invalid_arguments', `${flag}: ${issue?.message ?? 'invalid'}.`, undefined, EXIT_USAGE);
  }
  return checked.data;
}

/** The JSON summary: `{report, results: {<checkpoint>: {success, ...}}, drift, runs, ...}`. */
function summaryOf(result: DemoResult): Record<string, unknown> {
  return {
    report: result.report.folder,
    reportFiles: result.report.files,
    results: result.results,
    drift: result.drift,
    pairChecks: result.pairChecks,
    runs: result.runs,
    evaluationId: result.evaluationId,
    workspace: result.workspace,
    seconds: Math.round(result.seconds),
  };
}

function percent(value: number | null): string {
  return value === null ? '—' : `${(100 * value).toFixed(1)}%`;
}

/**
 * Success by task group of the base model and each run's final checkpoint: where the methods gain
 * and lose (every checkpoint's figures are in --json and in the report).
 */
export function groupTable(result: DemoResult): string[] {
  const rows = Object.values(result.results);
  const finals = rows.filter(
    (row) => row.runId === null || rows.filter((other) => other.runId === row.runId).at(-1) === row,
  );
  const groups = [...new Set(finals.flatMap((row) => Object.keys(row.successByGroup)))].sort((a, b) =>
    a.localeCompare(b),
  );
  if (groups.length === 0) return [];
  const header = (row: DemoCheckpointResult) => (row.seed === null ? row.method : `${row.method} s${row.seed}`);
  const lines = [
    'By task group (final checkpoints):',
    `  ${'group'.padEnd(30)}${'n'.padStart(6)}${finals.map((row) => header(row).padStart(12)).join('')}`,
  ];
  for (const group of groups) {
    const samples = finals.find((row) => row.successByGroup[group])?.successByGroup[group]?.samples ?? 0;
    const cells = finals.map((row) => percent(row.successByGroup[group]?.success ?? null).padStart(12));
    lines.push(`  ${group.padEnd(30)}${String(samples).padStart(6)}${cells.join('')}`);
  }
  return lines;
}

function describe(result: DemoResult): string[] {
  const lines = [`Demo finished in ${formatDuration(result.seconds)}. Held-out success (simulator's checker):`];
  for (const row of Object.values(result.results)) {
    const win = row.winRate === null ? '' : `, win rate vs base ${percent(row.winRate)}`;
    const form = row.formFailures === null ? '' : `, ${row.formFailures} wrong in form alone`;
    lines.push(`  ${row.label.padEnd(22)} ${percent(row.success).padStart(6)}${win}${form}`);
  }
  lines.push(...groupTable(result));
  const { drift } = result;
  if (drift.gain !== null) {
    lines.push(
      `DRIFT: ${percent(drift.mean)} over ${drift.bySeed.length} seed(s) (spread ${percent(drift.spread)}), base ${percent(drift.base)}, gain ${(100 * drift.gain).toFixed(1)} points.`,
    );
  }
  const checked = Object.entries(result.pairChecks);
  if (checked.length > 0) {
    lines.push(
      'Pairs checked by the simulator (chosen right / rejected right / chosen right and rejected wrong;',
      '  form: of the rejected answers wrong in form alone, how many chosen answers are right):',
    );
    for (const [runId, phases] of checked) {
      const cells = phases.map(
        (phase) =>
          `${phase.iteration === 0 ? 'seed' : `iter${phase.iteration}`} ${phase.chosenRight}/${phase.rejectedRight}/${phase.improvements} of ${phase.checked} (form ${phase.formImprovements}/${phase.formFailures})`,
      );
      lines.push(`  ${runId.padEnd(22)} ${cells.join(', ')}`);
    }
  }
  lines.push(`Report: ${result.report.folder}`);
  return lines;
}

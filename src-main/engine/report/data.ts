/**
 * Gathers what a report shows from the workspace folder, read-only and without the catalog (the
 * report job runs in a worker, and workers never open workbench.json):
 *
 *   runs/<id>/run.json, metrics.jsonl, samples.jsonl, iter-<k>/pairs.jsonl   (engine/runs)
 *   pairsets/<name>/v<k>/manifest.json       the run's pair set: curation counts, its dataset id
 *   datasets/<id>/import-report.json, mining-report.json                     (engine/data, signals)
 *   an evaluation JSON (EvaluationResult, engine/eval), when given
 *
 * Every file is optional: a missing or damaged one becomes a warning in the report, never a
 * failure, so a report of a run that is still going (or was interrupted) can be built.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AppFailure,
  EvaluationResult,
  Id,
  ImportReport,
  MiningReport,
  PairSetManifest,
  RunConfig,
  RunDetail,
  RunIterationSummary,
  RunMetricRow,
  RunPairRow,
  RunSampleRow,
  RunStatus,
} from '../../api/index.js';
import { PAIRSETS_FOLDER, parsePairSetRef } from '../curation/pairsets.js';
import { datasetFile } from '../signals/files.js';
import { readJsonlLines } from '../signals/jsonl.js';
import { APP_NAME, APP_VERSION } from '../version.js';
import { errorCode } from '../workspace/atomic.js';
import { resolveInside, runDir } from '../workspace/index.js';

/** Pairs of one iteration folder (iter-<k>/pairs.jsonl). */
export interface IterationPairCounts {
  iteration: number;
  pairs: number;
  train: number;
  test: number;
}

/** samples.jsonl rows of one iteration and role. */
export interface SampleCounts {
  iteration: number;
  role: RunSampleRow['role'];
  count: number;
  /** Per finish reason (eos, stop, length). */
  finishReasons: Record<string, number>;
  meanCharacters: number;
  /** Mean judge score where one was given. */
  meanScore: number | null;
}

/** The same source's on-policy sample in the first and in the last iteration that sampled it. */
export interface SampleBeforeAfter {
  sourceId: string;
  before: RunSampleRow;
  after: RunSampleRow;
}

export interface ReportRun {
  id: string;
  /** The run folder, relative to the workspace. */
  folder: string;
  name: string;
  method: string | null;
  status: RunStatus | null;
  createdAt: string | null;
  updatedAt: string | null;
  config: RunConfig | null;
  /** The dataset its pair set was frozen from, as run.json records it. */
  datasetId: string | null;
  iterations: RunIterationSummary[];
  /** Deviations from the paper and other things a reader should know (run.json `notes`). */
  notes: string[];
  /** Backend, versions and seeds the run recorded. */
  environment: Record<string, string>;
  error: string | null;
  /** Every line of metrics.jsonl, in order. */
  metrics: RunMetricRow[];
  pairCounts: IterationPairCounts[];
  /** A few training pairs per iteration (rejected vs chosen), in file order. */
  examplePairs: { iteration: number; pair: RunPairRow }[];
  sampleCounts: SampleCounts[];
  beforeAfter: SampleBeforeAfter[];
}

/** The data a run trained on: its pair set, that set's dataset, and their reports. */
export interface ReportSource {
  /** The reference in the run config (`name` or `name@vK`). */
  pairSet: string;
  manifest: PairSetManifest | null;
  datasetId: string | null;
  importReport: ImportReport | null;
  mining: MiningReport | null;
  /** The runs (ids) that trained on it. */
  runIds: string[];
}

/** Everything a report shows, with every number; report.json is this object. */
export interface ReportData {
  format: 'drift-workbench-report';
  version: 1;
  id: string;
  title: string;
  kind: 'run' | 'compare';
  createdAt: string;
  generator: { name: string; version: string; node: string; platform: string };
  runs: ReportRun[];
  sources: ReportSource[];
  evaluation: EvaluationResult | null;
  /** The evaluation file, relative to the workspace when inside it, else its name only (no private paths). */
  evaluationFile: string | null;
  limitations: string[];
  /** Files that were missing or damaged, lines dropped. */
  warnings: string[];
}

export interface GatherOptions {
  workspaceDir: string;
  id: string;
  runIds: string[];
  title?: string;
  /** An EvaluationResult JSON file (absolute path). */
  evaluationFile?: string;
  /** Training pairs shown per iteration. */
  pairsPerIteration?: number;
  /** Before/after generations shown per run. */
  beforeAfterCount?: number;
  now?: Date;
}

const RUN_FILE = 'run.json';
const METRICS_FILE = 'metrics.jsonl';
const SAMPLES_FILE = 'samples.jsonl';
const PAIRS_FILE = 'pairs.jsonl';
/** Characters kept of each text shown as an example (the full text stays in the run folder). */
const EXAMPLE_CHARACTERS = 4000;

/** Reads the runs, their data sources and the evaluation. Throws only when no run folder exists at all. */
export async function gatherReportData(options: GatherOptions): Promise<ReportData> {
  const warnings: string[] = [];
  const runs: ReportRun[] = [];
  for (const runId of options.runIds) {
    runs.push(await readRun(options.workspaceDir, runId, warnings, options));
  }
  const sources = await readSources(options.workspaceDir, runs, warnings);
  const evaluation = options.evaluationFile ? await readEvaluation(options.evaluationFile) : null;
  const kind = runs.length > 1 ? 'compare' : 'run';
  const title =
    options.title?.trim() ||
    (kind === 'compare'
      ? `Comparison: ${runs.map((run) => run.name).join(' vs ')}`
      : `Run report: ${runs[0]?.name ?? options.runIds[0]}`);
  const data: ReportData = {
    format: 'drift-workbench-report',
    version: 1,
    id: options.id,
    title,
    kind,
    createdAt: (options.now ?? new Date()).toISOString(),
    generator: {
      name: APP_NAME,
      version: APP_VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch} (${os.release()})`,
    },
    runs,
    sources,
    evaluation,
    evaluationFile: options.evaluationFile ? describeFile(options.workspaceDir, options.evaluationFile) : null,
    limitations: [],
    warnings,
  };
  data.limitations = limitationsOf(data);
  return data;
}

/* ------------------------------------------------------------------ runs */

async function readRun(
  workspaceDir: string,
  id: string,
  warnings: string[],
  options: GatherOptions,
): Promise<ReportRun> {
  const folder = runDir(workspaceDir, id);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new AppFailure('not_found', `No run ${id} in this workspace (no folder runs/${id}).`, { runId: id });
    }
    throw error;
  }
  const run: ReportRun = {
    id,
    folder: path.relative(workspaceDir, folder).split(path.sep).join('/'),
    name: id,
    method: null,
    status: null,
    createdAt: null,
    updatedAt: null,
    config: null,
    datasetId: null,
    iterations: [],
    notes: [],
    environment: {},
    error: null,
    metrics: [],
    pairCounts: [],
    examplePairs: [],
    sampleCounts: [],
    beforeAfter: [],
  };
  await readRunJson(path.join(folder, RUN_FILE), run, warnings);
  run.metrics = await readRows(path.join(folder, METRICS_FILE), RunMetricRow, `run ${id}: ${METRICS_FILE}`, warnings);

  const iterationFolders = names
    .map((name) => /^iter-(\d+)$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ name: match[0], iteration: Number(match[1]) }))
    .sort((a, b) => a.iteration - b.iteration);
  const perIteration = options.pairsPerIteration ?? 2;
  for (const { name, iteration } of iterationFolders) {
    const counts: IterationPairCounts = { iteration, pairs: 0, train: 0, test: 0 };
    const file = path.join(folder, name, PAIRS_FILE);
    await forEachRow(file, RunPairRow, `run ${id}: ${name}/${PAIRS_FILE}`, warnings, (pair) => {
      counts.pairs++;
      counts[pair.split]++;
      if (run.examplePairs.filter((example) => example.iteration === iteration).length < perIteration) {
        run.examplePairs.push({ iteration, pair: clipPair(pair) });
      }
    });
    run.pairCounts.push(counts);
  }

  const bySource = new Map<string, RunSampleRow[]>();
  const stats = new Map<string, SampleCounts & { characters: number; scores: number[] }>();
  await forEachRow(
    path.join(folder, SAMPLES_FILE),
    RunSampleRow,
    `run ${id}: ${SAMPLES_FILE}`,
    warnings,
    (row) => {
      const key = `${row.iteration}\u0000${row.role}`;
      let entry = stats.get(key);
      if (!entry) {
        entry = {
          iteration: row.iteration,
          role: row.role,
          count: 0,
          finishReasons: {},
          meanCharacters: 0,
          meanScore: null,
          characters: 0,
          scores: [],
        };
        stats.set(key, entry);
      }
      entry.count++;
      entry.finishReasons[row.finishReason] = (entry.finishReasons[row.finishReason] ?? 0) + 1;
      entry.characters += row.completion.length;
      if (row.score !== null) entry.scores.push(row.score);
      // Keep the first and the latest sample of each source, for before/after.
      const kept = bySource.get(row.sourceId);
      const clipped = clipSample(row);
      if (!kept) bySource.set(row.sourceId, [clipped]);
      else if (row.iteration > (kept[0]?.iteration ?? 0)) kept[1] = clipped;
    },
    true,
  );
  run.sampleCounts = [...stats.values()]
    .sort((a, b) => a.iteration - b.iteration || a.role.localeCompare(b.role))
    .map(({ characters, scores, ...entry }) => ({
      ...entry,
      meanCharacters: entry.count > 0 ? characters / entry.count : 0,
      meanScore: scores.length > 0 ? scores.reduce((sum, score) => sum + score, 0) / scores.length : null,
    }));
  for (const [sourceId, [before, after]] of bySource) {
    if (run.beforeAfter.length >= (options.beforeAfterCount ?? 3)) break;
    if (before && after && after.iteration > before.iteration) run.beforeAfter.push({ sourceId, before, after });
  }
  return run;
}

/** run.json as written by engine/runs (RunDetail); an older or partial file still gives what it can. */
async function readRunJson(file: string, run: ReportRun, warnings: string[]): Promise<void> {
  const raw = await readJson(file, `run ${run.id}`, warnings);
  if (raw === undefined) return;
  const record = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  if (typeof record['datasetId'] === 'string') run.datasetId = record['datasetId'];
  const detail = RunDetail.safeParse(raw);
  if (detail.success) {
    const value = detail.data;
    Object.assign(run, {
      name: value.config.name,
      method: value.config.method,
      status: value.status,
      createdAt: value.createdAt,
      updatedAt: value.updatedAt,
      config: value.config,
      iterations: value.iterations,
      notes: value.notes,
      environment: value.environment,
      error: value.error,
    });
    return;
  }
  warnings.push(`run ${run.id}: ${RUN_FILE} does not match the run schema; the report shows what it could read.`);
  const config = RunConfig.safeParse(record['config'] ?? record);
  if (config.success) {
    run.config = config.data;
    run.name = config.data.name;
    run.method = config.data.method;
  }
  const status = RunStatus.safeParse(record['status']);
  if (status.success) run.status = status.data;
  if (typeof record['createdAt'] === 'string') run.createdAt = record['createdAt'];
  if (typeof record['updatedAt'] === 'string') run.updatedAt = record['updatedAt'];
  if (Array.isArray(record['notes'])) run.notes = record['notes'].filter((note) => typeof note === 'string');
  const environment = record['environment'];
  if (typeof environment === 'object' && environment !== null) {
    for (const [key, value] of Object.entries(environment)) {
      if (typeof value === 'string' || typeof value === 'number') run.environment[key] = String(value);
    }
  }
  const iterations = RunIterationSummary.array().safeParse(record['iterations']);
  if (iterations.success) run.iterations = iterations.data;
}

function clipText(text: string): string {
  return text.length > EXAMPLE_CHARACTERS
    ? `${text.slice(0, EXAMPLE_CHARACTERS)} [… ${text.length - EXAMPLE_CHARACTERS} more characters]`
    : text;
}

function clipPair(pair: RunPairRow): RunPairRow {
  const clipTurns = <T extends { content: string }>(turns: T[]): T[] =>
    turns.map((turn) => ({ ...turn, content: clipText(turn.content) }));
  return {
    ...pair,
    prompt: clipTurns(pair.prompt),
    chosen: clipTurns(pair.chosen),
    rejected: clipTurns(pair.rejected),
  };
}

function clipSample(row: RunSampleRow): RunSampleRow {
  return { ...row, prompt: clipText(row.prompt), completion: clipText(row.completion) };
}

/* ------------------------------------------------------------------ data sources */

async function readSources(workspaceDir: string, runs: ReportRun[], warnings: string[]): Promise<ReportSource[]> {
  const sources = new Map<string, ReportSource>();
  for (const run of runs) {
    const reference = run.config?.pairSet;
    if (!reference) continue;
    const known = sources.get(reference);
    if (known) {
      known.runIds.push(run.id);
      continue;
    }
    const source: ReportSource = {
      pairSet: reference,
      manifest: null,
      datasetId: null,
      importReport: null,
      mining: null,
      runIds: [run.id],
    };
    sources.set(reference, source);
    source.manifest = await readManifest(workspaceDir, reference, warnings);
    source.datasetId = source.manifest?.datasetId ?? run.datasetId;
    if (source.datasetId === null) continue;
    if (!Id.safeParse(source.datasetId).success) {
      warnings.push(`pair set ${reference}: the dataset id ${JSON.stringify(source.datasetId)} is not a valid id.`);
      continue;
    }
    const label = `dataset ${source.datasetId}`;
    const importReport = await readJson(datasetFile(workspaceDir, source.datasetId, 'importReport'), label, warnings);
    if (importReport !== undefined) source.importReport = parseOrWarn(ImportReport, importReport, label, warnings);
    const mining = await readJson(datasetFile(workspaceDir, source.datasetId, 'miningReport'), label, warnings);
    if (mining !== undefined) source.mining = parseOrWarn(MiningReport, mining, label, warnings);
  }
  return [...sources.values()];
}

async function readManifest(
  workspaceDir: string,
  reference: string,
  warnings: string[],
): Promise<PairSetManifest | null> {
  let name: string;
  let version: number | null;
  try {
    ({ name, version } = parsePairSetRef(reference));
  } catch {
    warnings.push(`The pair set reference ${JSON.stringify(reference)} is not name or name@vK.`);
    return null;
  }
  if (version === null) {
    try {
      const versions = (await readdir(resolveInside(workspaceDir, PAIRSETS_FOLDER, name)))
        .map((folder) => /^v([1-9][0-9]*)$/.exec(folder)?.[1])
        .filter((value): value is string => value !== undefined)
        .map(Number);
      version = versions.length > 0 ? Math.max(...versions) : null;
    } catch {
      version = null;
    }
    if (version === null) {
      warnings.push(`pair set ${reference}: no version of it is in this workspace.`);
      return null;
    }
  }
  const file = resolveInside(workspaceDir, PAIRSETS_FOLDER, name, `v${version}`, 'manifest.json');
  const label = `pair set ${name}@v${version}`;
  const raw = await readJson(file, label, warnings);
  return raw === undefined ? null : parseOrWarn(PairSetManifest, raw, label, warnings);
}

/* ------------------------------------------------------------------ evaluation */

/** Where an `eval.run` job stores its result: `<workspace>/evaluations/<id>/result.json`. */
export function evaluationResultFile(workspaceDir: string, id: string): string {
  return resolveInside(workspaceDir, 'evaluations', id, 'result.json');
}

/**
 * An EvaluationResult JSON file (what engine/eval writes).
 * @throws AppFailure `report_evaluation_invalid` when it cannot be read or does not match.
 */
export async function readEvaluation(file: string): Promise<EvaluationResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AppFailure(
      'report_evaluation_invalid',
      `Cannot read the evaluation ${file}: ${(error as Error).message}`,
      { file },
    );
  }
  const parsed = EvaluationResult.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new AppFailure('report_evaluation_invalid', `${file} is not an evaluation result: ${issues}`, {
      file,
    });
  }
  return parsed.data;
}

/* ------------------------------------------------------------------ limitations */

/** What a reader must keep in mind, from what the data shows (and does not). */
export function limitationsOf(data: ReportData): string[] {
  const items: string[] = [];
  for (const run of data.runs) {
    const config = run.config;
    if (run.status && run.status !== 'succeeded') {
      const done = run.iterations.filter((iteration) => iteration.finishedAt !== null).length;
      items.push(
        `Run ${run.name} is ${run.status}${config ? ` (${done} of ${config.iterations + (config.seedWarmStart ? 1 : 0)} phases finished)` : ''}: its numbers describe a partial run.`,
      );
    }
    const test = run.pairCounts.reduce((sum, counts) => sum + counts.test, 0);
    if (run.pairCounts.length > 0 && test < 50) {
      items.push(
        `Run ${run.name} holds out ${test} pairs in all; held-out reward accuracies and margins on so few pairs move by several points between seeds.`,
      );
    }
    for (const note of run.notes) items.push(`Run ${run.name}: ${note}`);
    if (run.metrics.length === 0) items.push(`Run ${run.name} has no metrics yet, so it has no training curves.`);
  }
  items.push(
    'Training metrics (rewards/*, logps/*, KL) are the implicit DPO rewards of the policy against its reference on the run’s own pairs: they show that training separated chosen from rejected answers, not that answers got better.',
  );
  if (data.runs.some((run) => run.config?.method === 'drift')) {
    items.push(
      'In DRIFT the rejected answers are logged DSAT responses and the chosen ones are the policy’s own samples; a dissatisfied user is a noisy label, and curation decides how noisy.',
    );
  }
  const evaluation = data.evaluation;
  if (!evaluation) {
    items.push(
      'No evaluation was attached: rewards, win rates, gold success and the diversity of high-reward outputs are not part of this report.',
    );
  } else {
    items.push(
      `Evaluation rewards come from the evaluation’s reward function on ${evaluation.prompts.length} prompts × ${evaluation.settings.samples} samples; it is a proxy for what users want, and win rates inherit its blind spots.`,
    );
    if (evaluation.prompts.length < 100) {
      items.push(
        `With ${evaluation.prompts.length} prompts the ${Math.round(evaluation.settings.winRate.confidence * 100)} % bootstrap intervals are wide; a difference inside them is not evidence of an improvement.`,
      );
    }
    if (evaluation.checkpoints.some((checkpoint) => checkpoint.gold === null)) {
      items.push(
        'Gold success is only reported for checkpoints whose prompts have a checker (the simulated deployment’s tasks).',
      );
    }
    if (evaluation.map) {
      items.push(
        `The 2-D map is a ${evaluation.map.projection.toUpperCase()} projection of ${evaluation.map.embedding} embeddings: only local neighbourhoods are meaningful, and the high-reward region depends on the grid (${evaluation.map.gridSize}²), the bandwidth (${evaluation.map.bandwidth.toPrecision(3)}) and the region mass (${evaluation.settings.map.regionMass}), which the paper leaves unstated.`,
      );
    }
  }
  items.push(
    'The workbench trains small local models; the paper’s absolute numbers (7B/14B models, WildFeedback, AlpacaEval) are not comparable with these.',
  );
  if (data.warnings.length > 0) {
    items.push(`${data.warnings.length} file problem(s) were found while reading the data; see “Warnings”.`);
  }
  return items;
}

/* ------------------------------------------------------------------ files */

function describeFile(workspaceDir: string, file: string): string {
  const relative = path.relative(workspaceDir, file);
  return relative.startsWith('..') || path.isAbsolute(relative)
    ? path.basename(file)
    : relative.split(path.sep).join('/');
}

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

async function readJson(file: string, label: string, warnings: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    warnings.push(
      errorCode(error) === 'ENOENT'
        ? `${label}: ${path.basename(file)} is missing.`
        : `${label}: cannot read ${path.basename(file)} (${(error as Error).message}).`,
    );
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    warnings.push(`${label}: ${path.basename(file)} is not valid JSON (${(error as Error).message}).`);
    return undefined;
  }
}

function parseOrWarn<T>(schema: Schema<T>, value: unknown, label: string, warnings: string[]): T | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  warnings.push(`${label}: a file does not match its schema; it was left out.`);
  return null;
}

/** Streams a JSONL file's rows through a schema; invalid lines are counted into one warning. */
async function forEachRow<T>(
  file: string,
  schema: Schema<T>,
  label: string,
  warnings: string[],
  visit: (row: T) => void,
  missingIsNormal = false,
): Promise<void> {
  let invalid = 0;
  try {
    for await (const line of readJsonlLines(file)) {
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch {
        invalid++;
        continue;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) visit(parsed.data);
      else invalid++;
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      if (!missingIsNormal) warnings.push(`${label} is missing.`);
      return;
    }
    warnings.push(`${label}: reading stopped (${(error as Error).message}).`);
  }
  if (invalid > 0) warnings.push(`${label}: ${invalid} line(s) were not valid rows and were left out.`);
}

async function readRows<T>(file: string, schema: Schema<T>, label: string, warnings: string[]): Promise<T[]> {
  const rows: T[] = [];
  await forEachRow(file, schema, label, warnings, (row) => rows.push(row), true);
  return rows;
}

/**
 * A preference run's folder (ARCHITECTURE.md "Workspace on disk"):
 *
 *   <workspace>/runs/<id>/
 *     run.json            the resolved config, status, position, finished iterations, notes (replaced atomically)
 *     metrics.jsonl       RunMetricRow per optimizer step and per evaluation (append-only)
 *     samples.jsonl       RunSampleRow per on-policy sample (append-only)
 *     stop-request.json   a pause or cancel asked for by another process; the running job polls it
 *     iter-<k>/pairs.jsonl  the iteration's preference pairs (written whole, atomically; iter-0: the seed pairs)
 *     iter-<k>/model/       the iteration's policy, an HF folder (hard-linked into <workspace>/models/<id>/)
 *     checkpoints/        mid-phase checkpoints (train/checkpoint.ts), named by the run's global step
 *
 * Only the job's worker writes these while the run's job runs; the host writes run.json only
 * after the worker has exited (to settle a run its worker could not).
 */
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppFailure, RunDetail, RunMetricRow, RunPairRow, RunSampleRow, type RunStatus } from '../../api/index.js';
import { errorCode, readJsonLines, writeFileAtomic } from '../workspace/atomic.js';
import { runDir } from '../workspace/layout.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const SAMPLES_FILE = 'samples.jsonl';
export const STOP_FILE = 'stop-request.json';
export const PAIRS_FILE = 'pairs.jsonl';
export const MODEL_FOLDER = 'model';
export const RUN_FORMAT_VERSION = 1;

/** run.json: the run's detail as the channels return it, plus what resuming needs. */
export const RunFile = RunDetail.extend({
  formatVersion: z.literal(RUN_FORMAT_VERSION),
  kind: z.literal('preference'),
  /** The dataset the pair set was frozen from (the catalog's RunEntry.datasetId). */
  datasetId: z.string(),
  /** sha256 of the pair set's pairs.jsonl when the run started: a resumed run trains on the same data. */
  pairSetChecksum: z.string(),
});
export type RunFile = z.infer<typeof RunFile>;

/** What a pause or cancel from outside the job's process asks for. */
export const StopRequest = z.object({ action: z.enum(['pause', 'cancel']), requestedAt: z.string() });
export type StopRequest = z.infer<typeof StopRequest>;

/** `<run>/iter-<k>`. */
export function iterationDir(runFolder: string, iteration: number): string {
  return path.join(runFolder, `iter-${iteration}`);
}

/** The run file of `<workspace>/runs/<id>`, or null when there is none. @throws AppFailure `checkpoint_invalid` for a damaged one */
export async function readRunFile(runFolder: string): Promise<RunFile | null> {
  let text: string;
  try {
    text = await readFile(path.join(runFolder, RUN_FILE), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppFailure('checkpoint_invalid', `${path.join(runFolder, RUN_FILE)} is not valid JSON.`);
  }
  if (typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind !== 'preference') return null;
  const parsed = RunFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure(
      'checkpoint_invalid',
      `${path.join(runFolder, RUN_FILE)} does not match its schema (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}).`,
    );
  }
  return parsed.data;
}

/** The run file of a workspace run. @throws AppFailure `not_found` when the run is not a preference run on disk */
export async function loadRunFile(workspaceDir: string, runId: string): Promise<RunFile> {
  const run = await readRunFile(runDir(workspaceDir, runId));
  if (run === null) {
    throw new AppFailure('not_found', `No preference run ${runId} in this workspace (runs/${runId}/run.json).`);
  }
  return run;
}

export async function writeRunFile(runFolder: string, run: RunFile): Promise<void> {
  await writeFileAtomic(path.join(runFolder, RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
}

/** The detail the run:* channels answer (run.json without its bookkeeping). */
export function detailOf(run: RunFile): RunDetail {
  const { formatVersion: _format, kind: _kind, datasetId: _dataset, pairSetChecksum: _checksum, ...detail } = run;
  return detail;
}

/** Whether a status is one a job is working on. */
export function isActive(status: RunStatus): boolean {
  return status === 'running' || status === 'queued';
}

/** Rows of a JSONL file that match `schema`; a missing file has none. Torn or invalid lines are skipped. */
export async function readRows<T>(file: string, schema: z.ZodType<T>): Promise<T[]> {
  let values: unknown[];
  try {
    values = (await readJsonLines(file)).values;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const rows: T[] = [];
  for (const value of values) {
    const parsed = schema.safeParse(value);
    if (parsed.success) rows.push(parsed.data);
  }
  return rows;
}

export const readMetricRows = (runFolder: string) => readRows(path.join(runFolder, METRICS_FILE), RunMetricRow);
export const readSampleRows = (runFolder: string) => readRows(path.join(runFolder, SAMPLES_FILE), RunSampleRow);
export const readPairRows = (runFolder: string, iteration: number) =>
  readRows(path.join(iterationDir(runFolder, iteration), PAIRS_FILE), RunPairRow);

/** Rewrites a JSONL file with only the rows `keep` accepts (atomically); returns how many were dropped. */
export async function filterRows<T>(file: string, schema: z.ZodType<T>, keep: (row: T) => boolean): Promise<number> {
  const rows = await readRows(file, schema);
  const kept = rows.filter(keep);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '').length;
  if (kept.length === lines) return 0;
  await writeFileAtomic(file, kept.map((row) => `${JSON.stringify(row)}\n`).join(''));
  return lines - kept.length;
}

/**
 * Appends rows as JSON lines with one write and one fsync (a batch of samples); a torn last line
 * left by a crash is closed with a newline first, as appendJsonLine does.
 */
export async function appendRows(file: string, rows: readonly unknown[]): Promise<void> {
  if (rows.length === 0) return;
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.appendFile(prefix + rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes rows as a JSONL file in one atomic replace. */
export async function writeRowsAtomic(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFileAtomic(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}

/**
 * Asks the job running a run to stop after its current step (used when that job belongs to
 * another process, which holds the workspace: the file is the only thing both can see).
 */
export async function writeStopRequest(runFolder: string, action: StopRequest['action']): Promise<void> {
  const request: StopRequest = { action, requestedAt: new Date().toISOString() };
  await writeFileAtomic(path.join(runFolder, STOP_FILE), `${JSON.stringify(request)}\n`);
}

/** The pending stop request, or null. */
export async function readStopRequest(runFolder: string): Promise<StopRequest | null> {
  try {
    const parsed = StopRequest.safeParse(JSON.parse(await readFile(path.join(runFolder, STOP_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function clearStopRequest(runFolder: string): Promise<void> {
  await rm(path.join(runFolder, STOP_FILE), { force: true });
}

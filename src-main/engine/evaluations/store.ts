/**
 * Evaluations on disk, beside the catalog rather than in it (the catalog's schema stays as is):
 *
 *   <workspace>/evaluations/<id>/result.json   the EvaluationResult, every response included
 *   <workspace>/evaluations/<id>/meta.json     EvaluationMeta: what a list shows (written last)
 *
 * A folder without a valid meta.json is not an evaluation (a job that died while writing).
 * Results are read whole and checked once; the last one read is kept for paging its responses.
 */
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  AppFailure,
  EvaluationMeta,
  EvaluationResult,
  type EvalResponsesRequest,
  type EvalResponsesResponse,
  type EvaluationResponseRow,
} from '../../api/index.js';
import { errorCode, writeFileAtomic, pathExists } from '../workspace/atomic.js';
import { resolveInside } from '../workspace/layout.js';

export const EVALUATIONS_FOLDER = 'evaluations';
export const RESULT_FILE = 'result.json';
export const META_FILE = 'meta.json';

/** `<workspace>/evaluations/<id>`. */
export function evaluationDir(workspaceDir: string, id: string): string {
  if (id === '' || id === '.' || /[\\/]/.test(id)) {
    throw new AppFailure('path_outside_workspace', `The id ${JSON.stringify(id)} is not a single folder name.`);
  }
  return resolveInside(workspaceDir, EVALUATIONS_FOLDER, id);
}

/** An unused id made from the time: `eval-20250301-142233` (with `-2`, `-3`… when taken). */
export async function newEvaluationId(workspaceDir: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/T/, '-').replace(/\..*$/, '');
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 ? `eval-${stamp}` : `eval-${stamp}-${attempt}`;
    if (!(await pathExists(evaluationDir(workspaceDir, id)))) return id;
  }
}

/** Writes result.json, then meta.json (so a listed evaluation always has its result). */
export async function writeEvaluation(
  workspaceDir: string,
  meta: EvaluationMeta,
  result: EvaluationResult,
): Promise<string> {
  const folder = evaluationDir(workspaceDir, meta.id);
  await mkdir(folder, { recursive: true });
  await writeFileAtomic(path.join(folder, RESULT_FILE), JSON.stringify(result));
  await writeFileAtomic(path.join(folder, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
  return folder;
}

/** Every evaluation's meta, newest first; unreadable folders are skipped. */
export async function listEvaluations(workspaceDir: string): Promise<EvaluationMeta[]> {
  let names: string[] = [];
  try {
    names = await readdir(resolveInside(workspaceDir, EVALUATIONS_FOLDER));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const metas: EvaluationMeta[] = [];
  for (const name of names.filter((item) => !item.startsWith('.'))) {
    const meta = await readMeta(workspaceDir, name).catch(() => null);
    if (meta !== null) metas.push(meta);
  }
  return metas.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** @throws AppFailure `not_found` */
export async function readMeta(workspaceDir: string, id: string): Promise<EvaluationMeta> {
  const file = path.join(evaluationDir(workspaceDir, id), META_FILE);
  const parsed = EvaluationMeta.safeParse(await readJson(file, id));
  if (!parsed.success) throw new AppFailure('not_found', `Evaluation ${id} has no valid ${META_FILE}.`, { file });
  return parsed.data;
}

let cached: { file: string; modified: number; result: EvaluationResult } | null = null;

/** @throws AppFailure `not_found` */
export async function readResult(workspaceDir: string, id: string): Promise<EvaluationResult> {
  const file = path.join(evaluationDir(workspaceDir, id), RESULT_FILE);
  const modified = await stat(file).then(
    (info) => info.mtimeMs,
    () => -1,
  );
  if (cached !== null && cached.file === file && cached.modified === modified) return cached.result;
  const parsed = EvaluationResult.safeParse(await readJson(file, id));
  if (!parsed.success) throw new AppFailure('not_found', `Evaluation ${id} has no valid ${RESULT_FILE}.`, { file });
  cached = { file, modified, result: parsed.data };
  return parsed.data;
}

async function readJson(file: string, id: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new AppFailure('not_found', `No evaluation ${id} in this workspace.`);
    throw new AppFailure('not_found', `Evaluation ${id}: ${path.basename(file)} is not readable JSON.`, { file });
  }
}

/** The result without responses (what eval:get ships; eval:responses pages them). */
export function withoutSamples(result: EvaluationResult): EvaluationResult {
  return { ...result, checkpoints: result.checkpoints.map((checkpoint) => ({ ...checkpoint, samples: [] })) };
}

/**
 * The responses of one checkpoint matching the request's filters, in (prompt, sample) order.
 * @throws AppFailure `invalid_request` for a checkpoint or opponent the result does not have
 */
export function selectResponses(
  result: EvaluationResult,
  request: Required<Pick<EvalResponsesRequest, 'offset' | 'limit'>> & Omit<EvalResponsesRequest, 'offset' | 'limit'>,
): EvalResponsesResponse {
  const own = result.checkpoints[request.checkpoint];
  if (own === undefined) {
    throw new AppFailure('invalid_request', `The evaluation has ${result.checkpoints.length} checkpoints.`);
  }
  const opponent = request.opponent === undefined ? undefined : result.checkpoints[request.opponent];
  if (request.opponent !== undefined && opponent === undefined) {
    throw new AppFailure('invalid_request', `The evaluation has no checkpoint ${request.opponent}.`);
  }
  const theirs = new Map(opponent?.samples.map((sample) => [`${sample.prompt}:${sample.sample}`, sample]));
  const top = result.histogramEdges.at(-1);
  const tieMargin = result.settings.winRate.tieMargin;
  const rows: EvaluationResponseRow[] = [];
  for (const sample of own.samples) {
    if (request.prompt !== undefined && sample.prompt !== request.prompt) continue;
    if (request.sample !== undefined && sample.sample !== request.sample) continue;
    if (request.highReward !== undefined && sample.highReward !== request.highReward) continue;
    if (request.minReward !== undefined && sample.reward < request.minReward) continue;
    if (request.maxReward !== undefined) {
      const inside = sample.reward < request.maxReward || (request.maxReward === top && sample.reward <= top);
      if (!inside) continue;
    }
    const other = theirs.get(`${sample.prompt}:${sample.sample}`) ?? null;
    if (request.outcome !== undefined) {
      if (other === null) continue;
      const difference = sample.reward - other.reward;
      const outcome = Math.abs(difference) <= tieMargin ? 'tie' : difference > 0 ? 'win' : 'loss';
      if (outcome !== request.outcome) continue;
    }
    rows.push({
      ...sample,
      checkpoint: request.checkpoint,
      messages: result.prompts[sample.prompt] ?? [],
      opponent: other === null ? null : { ...other, checkpoint: request.opponent as number },
    });
  }
  return { total: rows.length, rows: rows.slice(request.offset, request.offset + request.limit) };
}

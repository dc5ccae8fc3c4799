/**
 * What an export compiles, resolved from the workspace: the run's config (from its run.json or
 * given), its pair set, the dataset's SAT records and how to name the base model on the cluster.
 * Runs in the job worker, which opens the catalog read-only (the host stays its only writer).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { AppFailure, RunConfig, SatRecord, type CuratedPair, type ModelEntry } from '../../api/index.js';
import { readPairSet, resolvePairSet } from '../curation/pairsets.js';
import { datasetFile } from '../signals/files.js';
import { readJsonlLines } from '../signals/jsonl.js';
import { errorCode } from '../workspace/atomic.js';
import { modelDir, openWorkspace, runDir } from '../workspace/index.js';
import type { RunExportParams } from './params.js';
import type { BundleSource, ModelSource } from './trl/bundle.js';

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** The RunConfig of a run.json: a RunDetail-shaped file (`config`) or a bare config. */
export function runConfigOf(json: unknown): RunConfig | null {
  const nested = RunConfig.safeParse((json as { config?: unknown } | null)?.config);
  if (nested.success) return nested.data;
  const bare = RunConfig.safeParse(json);
  return bare.success ? bare.data : null;
}

/** The config of workspace run `runId`. @throws AppFailure `not_found` */
export async function readRunConfig(workspaceDir: string, runId: string): Promise<RunConfig> {
  const file = path.join(runDir(workspaceDir, runId), 'run.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT')
      throw new AppFailure('not_found', `No run ${runId} in this workspace (${file}).`);
    throw new AppFailure('not_found', `${file} cannot be read: ${(error as Error).message}`);
  }
  const config = runConfigOf(json);
  if (config === null) {
    throw new AppFailure(
      'not_found',
      `${file} holds no preference-run config (only DRIFT, IterDPO, SPIN and DPO runs export).`,
    );
  }
  return config;
}

/**
 * The hub id a workspace model came from, when its source folder says so: a Hugging Face cache
 * folder (`…/models--<org>--<name>/snapshots/<sha>`), or a config.json `_name_or_path` that is a
 * hub id rather than a path.
 */
export function hubIdOf(source: string, configJson: Record<string, unknown>): string | null {
  const cached = /(?:^|[\\/])models--([A-Za-z0-9][\w.-]*)--([\w.-]+)(?:[\\/]|$)/.exec(source);
  if (cached) return `${cached[1]}/${cached[2]}`;
  const named = configJson['_name_or_path'];
  return typeof named === 'string' && HUB_ID.test(named) ? named : null;
}

async function modelSource(
  workspaceDir: string,
  entry: ModelEntry,
  choice: z.output<typeof RunExportParams>['baseModel'],
  notes: string[],
  role: string,
): Promise<ModelSource> {
  const folder = modelDir(workspaceDir, entry.id);
  if (choice.kind === 'hub') return { kind: 'hub', reference: choice.id };
  if (choice.kind === 'path') return { kind: 'path', reference: choice.path };
  if (choice.kind === 'copy') return { kind: 'copy', folder };
  let configJson: Record<string, unknown> = {};
  try {
    configJson = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    configJson = {};
  }
  const hub = hubIdOf(entry.source, configJson);
  if (hub !== null) {
    notes.push(
      `The ${role} is named by its hub id ${hub} (workspace model ${entry.id}, imported from ${entry.source}).`,
    );
    return { kind: 'hub', reference: hub };
  }
  notes.push(`The ${role} (workspace model ${entry.id}) has no hub id, so it is copied into the bundle.`);
  return { kind: 'copy', folder };
}

async function* satRecords(file: string): AsyncGenerator<SatRecord> {
  try {
    for await (const line of readJsonlLines(file)) yield SatRecord.parse(JSON.parse(line.text));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

/** The usable pairs (not rejected by a curator), the first `maxRecords` of them when above 0 (RunConfig.maxRecords). */
async function* usablePairs(pairs: AsyncIterable<CuratedPair>, maxRecords: number): AsyncGenerator<CuratedPair> {
  let count = 0;
  for await (const pair of pairs) {
    if (pair.status === 'rejected') continue;
    if (maxRecords > 0 && count >= maxRecords) return;
    count++;
    yield pair;
  }
}

/**
 * Resolves an export's inputs from the workspace.
 * @throws AppFailure `not_found` (run, pair set or model), `invalid_request` (a bad pair set reference)
 */
export async function resolveExportSource(
  workspaceDir: string,
  params: z.output<typeof RunExportParams>,
): Promise<BundleSource> {
  const config = params.config ?? (await readRunConfig(workspaceDir, params.runId as string));
  const workspace = await openWorkspace(workspaceDir, { readOnly: true });
  try {
    const notes: string[] = [];
    const pairSet = resolvePairSet(workspace, config.pairSet);
    const models = workspace.catalog.data.models;
    const find = (id: string): ModelEntry => {
      const entry = models.find((model) => model.id === id);
      if (!entry) throw new AppFailure('not_found', `No model ${id} in this workspace.`);
      return entry;
    };
    const baseModel = await modelSource(workspaceDir, find(config.baseModelId), params.baseModel, notes, 'base model');
    const judgeModel =
      config.method === 'iterdpo' && config.judge.kind === 'reward-model'
        ? await modelSource(workspaceDir, find(config.judge.modelId), { kind: 'auto' }, notes, 'reward-model judge')
        : null;
    notes.push('Pairs a curator rejected are left out of the data files.');
    return {
      runId: params.runId ?? null,
      config,
      pairSet: { id: pairSet.id, datasetId: pairSet.datasetId, checksum: pairSet.checksum },
      pairs: usablePairs(readPairSet(workspaceDir, pairSet), config.maxRecords),
      satRecords: satRecords(datasetFile(workspaceDir, pairSet.datasetId, 'sat')),
      baseModel,
      judgeModel,
      notes,
    };
  } finally {
    await workspace.close();
  }
}

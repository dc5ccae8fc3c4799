/**
 * A run's data: the rows of a frozen pair set (engine/curation/pairsets.ts), resolved from the
 * workspace's files rather than the catalog (the job runs in a worker, which never opens the
 * catalog): `name@vK` is `pairsets/<name>/v<K>/`, a bare name its highest version on disk.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, PairSetManifest, type PairSetEntry } from '../../api/index.js';
import { PAIRSETS_FOLDER, pairSetDir, parsePairSetRef, readPairSet } from '../curation/pairsets.js';
import { errorCode } from '../workspace/atomic.js';
import { resolveInside } from '../workspace/layout.js';
import type { RunRecord } from './recipes.js';

/** A pair set version found on disk: its catalog-shaped entry and its manifest. */
export interface ResolvedPairSet {
  entry: PairSetEntry;
  manifest: PairSetManifest;
}

/** @throws AppFailure `not_found` when no such pair set (version) exists; `invalid_request` for a malformed reference */
export async function resolvePairSetOnDisk(workspaceDir: string, reference: string): Promise<ResolvedPairSet> {
  const { name, version } = parsePairSetRef(reference);
  let chosen = version;
  if (chosen === null) {
    let folders: string[] = [];
    try {
      folders = await readdir(resolveInside(workspaceDir, PAIRSETS_FOLDER, name));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    const versions = folders
      .map((folder) => /^v([1-9][0-9]*)$/.exec(folder)?.[1])
      .filter((value): value is string => value !== undefined)
      .map(Number);
    chosen = versions.length > 0 ? Math.max(...versions) : null;
  }
  const missing = () =>
    new AppFailure('not_found', `No pair set ${reference} in this workspace; \`drift-wb pairs freeze\` makes one.`);
  if (chosen === null) throw missing();
  const folder = pairSetDir(workspaceDir, name, chosen);
  let manifest: PairSetManifest;
  try {
    manifest = PairSetManifest.parse(JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8')));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw missing();
    throw new AppFailure('not_found', `Pair set ${name}@v${chosen} has no readable manifest.json.`);
  }
  const entry: PairSetEntry = {
    id: `${name}@v${chosen}`,
    name,
    version: chosen,
    datasetId: manifest.datasetId,
    createdAt: manifest.createdAt,
    pairs: manifest.counts.pairs,
    seedPairs: manifest.counts.seedPairs,
    checksum: manifest.checksum,
    path: path.relative(workspaceDir, folder).split(path.sep).join('/'),
  };
  return { entry, manifest };
}

/**
 * The pair set's usable rows in file order, checked against its checksum. Pairs a curator
 * rejected are left out (counted in `rejected`): they were judged not to be DSAT pairs. With
 * `maxRecords` above 0, only the first that many usable rows are read.
 */
export async function readRunRecords(
  workspaceDir: string,
  entry: PairSetEntry,
  maxRecords = 0,
): Promise<{ records: RunRecord[]; rejected: number }> {
  const records: RunRecord[] = [];
  let rejected = 0;
  for await (const pair of readPairSet(workspaceDir, entry)) {
    if (maxRecords > 0 && records.length >= maxRecords) break;
    if (pair.status === 'rejected') {
      rejected++;
      continue;
    }
    records.push({
      id: pair.id,
      context: pair.context.map(({ role, content }) => ({ role, content })),
      rejected: pair.rejected.content,
      feedback: pair.feedback.content,
      chosen: pair.chosen?.content ?? null,
    });
  }
  return { records, rejected };
}

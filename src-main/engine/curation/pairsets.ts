/**
 * Pair sets: a curated selection frozen as `<workspace>/pairsets/<name>/v<k>/` with pairs.jsonl
 * (CuratedPair rows: edits applied, decision attached) and manifest.json (filter, counts, sha256 of
 * pairs.jsonl, the pair ids). A version is never rewritten; freezing again makes v<k+1>. Training
 * runs reference a set as `name@vK` (or `name` for its latest version).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, CuratedPair, PairSetManifest, type PairFilter, type PairSetEntry } from '../../api/index.js';
import { JsonlWriter, readJsonlLines } from '../signals/jsonl.js';
import { errorCode } from '../workspace/atomic.js';
import { resolveInside, writeFileAtomic, type Workspace } from '../workspace/index.js';
import type { PairIndex } from './pair-index.js';

export const PAIRSETS_FOLDER = 'pairsets';

/** The folder of one version, `<workspace>/pairsets/<name>/v<version>`. */
export function pairSetDir(workspaceDir: string, name: string, version: number): string {
  return resolveInside(workspaceDir, PAIRSETS_FOLDER, name, `v${version}`);
}

/** `name@vK` → name and version; a bare name means the latest version. */
export function parsePairSetRef(reference: string): { name: string; version: number | null } {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?:@v([1-9][0-9]*))?$/.exec(reference.trim());
  if (!match) throw new AppFailure('invalid_request', `"${reference}" is not a pair set reference (name or name@vK).`);
  return { name: match[1]!, version: match[2] === undefined ? null : Number(match[2]) };
}

/** The catalog entry a reference points to. */
export function resolvePairSet(workspace: Workspace, reference: string): PairSetEntry {
  const { name, version } = parsePairSetRef(reference);
  const versions = workspace.catalog.data.pairSets.filter((entry) => entry.name === name);
  const entry =
    version === null
      ? versions.reduce<PairSetEntry | undefined>(
          (latest, item) => (!latest || item.version > latest.version ? item : latest),
          undefined,
        )
      : versions.find((item) => item.version === version);
  if (!entry)
    throw new AppFailure(
      'not_found',
      `No pair set ${reference} in this workspace; \`drift-wb pairs freeze\` makes one.`,
    );
  return entry;
}

async function versionsOnDisk(workspaceDir: string, name: string): Promise<number[]> {
  try {
    return (await readdir(resolveInside(workspaceDir, PAIRSETS_FOLDER, name)))
      .map((folder) => /^v([1-9][0-9]*)$/.exec(folder)?.[1])
      .filter((value): value is string => value !== undefined)
      .map(Number);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Freezes the pairs of `index` matching `filter` as the next version of `name`, and records it
 * in the catalog. Returns the new entry.
 * @throws AppFailure `pairset_empty` when nothing matches.
 */
export async function freezePairSet(
  workspace: Workspace,
  datasetId: string,
  name: string,
  filter: PairFilter,
  index: PairIndex,
): Promise<PairSetEntry> {
  const selected = index.select(filter);
  if (selected.length === 0)
    throw new AppFailure('pairset_empty', `No pair of dataset ${datasetId} matches the filter.`);
  const known = workspace.catalog.data.pairSets.filter((entry) => entry.name === name).map((entry) => entry.version);
  const version = Math.max(0, ...known, ...(await versionsOnDisk(workspace.dir, name))) + 1;
  const folder = pairSetDir(workspace.dir, name, version);
  await mkdir(folder, { recursive: true });

  const writer = await JsonlWriter.open(path.join(folder, 'pairs.jsonl'));
  const hash = createHash('sha256');
  const counts: PairSetManifest['counts'] = { pairs: 0, seedPairs: 0, byCategory: {}, byStatus: {} };
  const pairIds: string[] = [];
  try {
    for await (const pair of index.curated(selected)) {
      const text = JSON.stringify(pair);
      hash.update(`${text}\n`);
      await writer.writeLine(text);
      pairIds.push(pair.id);
      counts.pairs++;
      if (pair.kind === 'seed') counts.seedPairs++;
      for (const category of pair.categories) counts.byCategory[category] = (counts.byCategory[category] ?? 0) + 1;
      counts.byStatus[pair.status] = (counts.byStatus[pair.status] ?? 0) + 1;
    }
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const checksum = hash.digest('hex');
  const createdAt = new Date().toISOString();
  const id = `${name}@v${version}`;
  const manifest: PairSetManifest = { id, name, version, datasetId, filter, createdAt, checksum, counts, pairIds };
  await writeFileAtomic(path.join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const entry: PairSetEntry = {
    id,
    name,
    version,
    datasetId,
    createdAt,
    pairs: counts.pairs,
    seedPairs: counts.seedPairs,
    checksum,
    path: path.relative(workspace.dir, folder).split(path.sep).join('/'),
  };
  await workspace.catalog.update((draft) => {
    draft.pairSets.push(entry);
  });
  return entry;
}

/** A pair set's manifest. */
export async function readPairSetManifest(workspaceDir: string, entry: PairSetEntry): Promise<PairSetManifest> {
  const text = await readFile(path.join(pairSetDir(workspaceDir, entry.name, entry.version), 'manifest.json'), 'utf8');
  return PairSetManifest.parse(JSON.parse(text));
}

/**
 * Streams a pair set's pairs, checking each row and, at the end, the file's checksum against the
 * manifest (a run must train on exactly what was frozen).
 * @throws AppFailure `not_found` when the file was changed or damaged.
 */
export async function* readPairSet(workspaceDir: string, entry: PairSetEntry): AsyncGenerator<CuratedPair> {
  const file = path.join(pairSetDir(workspaceDir, entry.name, entry.version), 'pairs.jsonl');
  const hash = createHash('sha256');
  for await (const line of readJsonlLines(file)) {
    hash.update(`${line.text}\n`);
    yield CuratedPair.parse(JSON.parse(line.text));
  }
  if (hash.digest('hex') !== entry.checksum) {
    throw new AppFailure(
      'not_found',
      `Pair set ${entry.id} does not match its checksum; it was changed after it was frozen.`,
    );
  }
}

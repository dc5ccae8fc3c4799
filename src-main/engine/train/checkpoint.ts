/**
 * Crash-safe, resumable checkpoints (reference/reliability.md §4, the design HF's Trainer arrived
 * at in transformers PRs #27820, #28364 and #35580, with open_instruct's completion marker as a
 * second defence). A checkpoint is a complete HF model folder plus the training state:
 *
 *   <run>/checkpoints/
 *     step-000000120/              complete checkpoints only
 *       config.json, model.safetensors             the model, HF names (loads in transformers)
 *       tokenizer.json, tokenizer_config.json      the tokenizer
 *       optimizer.safetensors                      the optimizer's slots, `<slot>.<weight name>`
 *       trainer_state.json                         step, epoch, batch cursor, RNG state, schedule, config
 *       manifest.json                              size and sha256 of every file; written last
 *     .staging-step-000000130-<random>/            being written; ignored by loaders, removed on start
 *     latest                                       "step-000000120", replaced atomically
 *
 * Save: write everything into a staging folder beside the checkpoints (same file system) with each
 * file fsynced, manifest last, rename the folder into place, fsync the parent, replace `latest`,
 * prune. Load: try `latest`, then every step folder newest first; take the first whose manifest
 * lists the required files with matching sizes and sha256. A crash at any moment leaves the
 * previous checkpoint loadable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import type { CausalLanguageModel, ModelConfig } from '../model/index.js';
import {
  CONFIG_FILE,
  WEIGHTS_FILE,
  loadHfModel,
  readSafetensors,
  saveHfModel,
  serializeSafetensors,
} from '../model/index.js';
import type { Tokenizer } from '../text/index.js';
import { loadTokenizer } from '../text/index.js';
import { errorCode, fsyncFolder, removeStaleTemps, writeFileAtomic, pathExists } from '../workspace/atomic.js';
import type { OptimizerConfig, OptimizerSlot, OptimizerState } from '../compute/optimizers.js';

export const CHECKPOINTS_FOLDER = 'checkpoints';
export const LATEST_FILE = 'latest';
export const MANIFEST_FILE = 'manifest.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';
const MANIFEST_FORMAT = 1;
const STEP_FOLDER = /^step-(\d{9,})$/;
const REQUIRED_FILES = [CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE] as const;

const manifestSchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT),
  step: z.number().int().nonnegative(),
  createdAt: z.string(),
  files: z.record(
    z.string().regex(/^[A-Za-z0-9._-]+$/),
    z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  ),
});
export type CheckpointManifest = z.infer<typeof manifestSchema>;

/** The folder name of a step's checkpoint: `step-000000120`. */
export function stepFolderName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

export interface CheckpointContents {
  step: number;
  model: CausalLanguageModel;
  tokenizer: Tokenizer | null;
  optimizer: OptimizerState;
  /** JSON of the trainer (step, epoch, cursor, random state, schedule, hyperparameters). */
  trainerState: unknown;
}

export interface SaveCheckpointOptions {
  /** Step folders to keep (the newest; the one `latest` names is always kept). Default 3. */
  keep?: number;
}

/**
 * Writes a checkpoint as described above and returns its folder. An existing folder for the same
 * step is replaced (a resumed run re-saving the step it resumed from writes the same bytes).
 */
export async function saveCheckpoint(
  checkpointsDir: string,
  contents: CheckpointContents,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  await mkdir(checkpointsDir, { recursive: true });
  const name = stepFolderName(contents.step);
  const staging = path.join(checkpointsDir, `.staging-${name}-${randomBytes(4).toString('hex')}`);
  const extraFiles: Record<string, string | Uint8Array> = {
    [OPTIMIZER_FILE]: serializeOptimizerState(contents.optimizer),
    [TRAINER_STATE_FILE]: `${JSON.stringify(contents.trainerState, null, 2)}\n`,
  };
  if (contents.tokenizer !== null) {
    const { tokenizer, config } = contents.tokenizer.toJSON();
    extraFiles['tokenizer.json'] = `${JSON.stringify(tokenizer)}\n`;
    extraFiles['tokenizer_config.json'] = `${JSON.stringify(config, null, 2)}\n`;
  }
  try {
    // saveHfModel writes and fsyncs every file and renames its own staging folder to `staging`.
    await saveHfModel(contents.model, staging, { extraFiles });
    const manifest: CheckpointManifest = {
      formatVersion: MANIFEST_FORMAT,
      step: contents.step,
      createdAt: new Date().toISOString(),
      files: {},
    };
    for (const file of (await readdir(staging)).sort()) {
      const bytes = await readFile(path.join(staging, file));
      manifest.files[file] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    await writeFileAtomic(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const target = path.join(checkpointsDir, name);
    if (await pathExists(target)) {
      const retired = path.join(checkpointsDir, `.retired-${name}-${randomBytes(4).toString('hex')}`);
      await rename(target, retired);
      await rename(staging, target);
      await rm(retired, { recursive: true, force: true });
    } else {
      await rename(staging, target);
    }
    await fsyncFolder(checkpointsDir);
    await writeFileAtomic(path.join(checkpointsDir, LATEST_FILE), `${name}\n`);
    await pruneCheckpoints(checkpointsDir, options.keep ?? 3, name);
    return target;
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Removes what an interrupted save left in the checkpoints folder: staging and retired folders
 * (every entry whose name starts with "."), and temp files of dead processes. Returns the removed
 * names.
 */
export async function cleanStaleStaging(checkpointsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith('.') || name.endsWith('.tmp')) continue;
    await rm(path.join(checkpointsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  removed.push(...(await removeStaleTemps(checkpointsDir)).map((file) => path.basename(file)));
  return removed;
}

/** A checkpoint that passed verification. */
export interface VerifiedCheckpoint {
  folder: string;
  step: number;
  manifest: CheckpointManifest;
}

/** What {@link findLatestCheckpoint} found: the newest valid checkpoint, and why newer ones were skipped. */
export interface CheckpointSearch {
  checkpoint: VerifiedCheckpoint | null;
  skipped: { folder: string; reason: string }[];
}

/**
 * The newest checkpoint whose files match its manifest: the one `latest` names if it verifies,
 * else the highest step that does. Never a staging folder.
 */
export async function findLatestCheckpoint(checkpointsDir: string): Promise<CheckpointSearch> {
  const skipped: { folder: string; reason: string }[] = [];
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { checkpoint: null, skipped };
    throw error;
  }
  const steps = names.filter((name) => STEP_FOLDER.test(name)).sort((a, b) => stepOf(b) - stepOf(a));
  let latest: string | undefined;
  try {
    latest = (await readFile(path.join(checkpointsDir, LATEST_FILE), 'utf8')).trim();
  } catch {
    latest = undefined;
  }
  const order =
    latest !== undefined && STEP_FOLDER.test(latest) ? [latest, ...steps.filter((name) => name !== latest)] : steps;
  for (const name of order) {
    const folder = path.join(checkpointsDir, name);
    const problem = await verifyCheckpoint(folder);
    if (typeof problem === 'string') {
      skipped.push({ folder, reason: problem });
      continue;
    }
    return { checkpoint: problem, skipped };
  }
  return { checkpoint: null, skipped };
}

/** Checks a checkpoint folder against its manifest: the verified checkpoint, or what is wrong. */
export async function verifyCheckpoint(folder: string): Promise<VerifiedCheckpoint | string> {
  let manifest: CheckpointManifest;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(path.join(folder, MANIFEST_FILE), 'utf8')));
    if (!parsed.success) return `${MANIFEST_FILE} does not match its schema`;
    manifest = parsed.data;
  } catch (error) {
    return `${MANIFEST_FILE} is missing or unreadable (${errorCode(error) ?? (error as Error).message})`;
  }
  if (stepFolderName(manifest.step) !== path.basename(folder)) {
    return `${MANIFEST_FILE} is for step ${manifest.step}, not this folder`;
  }
  for (const required of REQUIRED_FILES) {
    if (manifest.files[required] === undefined) return `${MANIFEST_FILE} does not list ${required}`;
  }
  for (const [file, expected] of Object.entries(manifest.files)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(folder, file));
    } catch (error) {
      return `${file} is missing or unreadable (${errorCode(error) ?? 'unreadable'})`;
    }
    if (bytes.length !== expected.bytes)
      return `${file} has ${bytes.length} bytes; the manifest says ${expected.bytes}`;
    if (sha256(bytes) !== expected.sha256) return `${file} does not match its sha256 in the manifest`;
  }
  return { folder, step: manifest.step, manifest };
}

/** A checkpoint read back: the model, its tokenizer, the optimizer state and the trainer state. */
export interface LoadedCheckpoint extends CheckpointContents {
  folder: string;
}

/**
 * Loads a verified checkpoint. The model's architecture must equal `expected` (STYLE.md §7): a
 * run never resumes into a different model.
 * @throws AppFailure `checkpoint_config_mismatch`, `checkpoint_invalid`
 */
export async function loadCheckpoint(
  checkpoint: VerifiedCheckpoint,
  expected?: ModelConfig,
): Promise<LoadedCheckpoint> {
  const { folder } = checkpoint;
  const invalid = (message: string): never => {
    throw new AppFailure('checkpoint_invalid', `${folder}: ${message}`, { folder });
  };
  const model = await loadHfModel(folder).catch((error: unknown) => {
    throw error instanceof AppFailure
      ? new AppFailure('checkpoint_invalid', `${folder}: ${error.message}`, { folder })
      : error;
  });
  try {
    if (expected !== undefined) assertSameArchitecture(expected, model.config, folder);
    const tokenizer = (await pathExists(path.join(folder, 'tokenizer.json'))) ? await loadTokenizer(folder) : null;
    const optimizerFile = await readSafetensors(path.join(folder, OPTIMIZER_FILE));
    const metadata = optimizerFile.metadata;
    let config: OptimizerConfig;
    try {
      config = JSON.parse(metadata['config'] ?? '') as OptimizerConfig;
    } catch {
      return invalid(`${OPTIMIZER_FILE} has no optimizer config in its metadata.`);
    }
    const step = Number(metadata['step']);
    if (!Number.isSafeInteger(step) || step < 0) invalid(`${OPTIMIZER_FILE} has no step count in its metadata.`);
    const slots = new Map<string, OptimizerSlot>();
    for (const [name, entry] of optimizerFile.tensors) {
      slots.set(name, { shape: [...entry.shape], data: optimizerFile.readFloat32(name) });
    }
    let trainerState: unknown;
    try {
      trainerState = JSON.parse(await readFile(path.join(folder, TRAINER_STATE_FILE), 'utf8'));
    } catch (error) {
      return invalid(`${TRAINER_STATE_FILE} is not valid JSON (${(error as Error).message}).`);
    }
    return { folder, step: checkpoint.step, model, tokenizer, optimizer: { config, step, slots }, trainerState };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The fields of a config that decide the computation (everything but token ids, init and
 * unread extras); two configs with equal architectures load each other's weights and compute alike.
 */
export function architectureOf(config: ModelConfig): Record<string, unknown> {
  const {
    extra: _extra,
    bosTokenId: _bos,
    eosTokenId: _eos,
    padTokenId: _pad,
    initializerRange: _init,
    ...rest
  } = config;
  return rest;
}

/** @throws AppFailure `checkpoint_config_mismatch` naming the fields that differ */
export function assertSameArchitecture(expected: ModelConfig, actual: ModelConfig, where: string): void {
  const wanted = architectureOf(expected);
  const found = architectureOf(actual);
  const differing = [...new Set([...Object.keys(wanted), ...Object.keys(found)])].filter(
    (key) => JSON.stringify(wanted[key]) !== JSON.stringify(found[key]),
  );
  if (differing.length > 0) {
    const listed = differing.map((key) => `${key} ${JSON.stringify(found[key])} (run: ${JSON.stringify(wanted[key])})`);
    throw new AppFailure(
      'checkpoint_config_mismatch',
      `${where} holds a different architecture than this run: ${listed.join(', ')}.`,
      { differing },
    );
  }
}

function serializeOptimizerState(state: OptimizerState): Uint8Array {
  const tensors = [...state.slots]
    .map(([name, slot]) => ({ name, shape: slot.shape, data: slot.data }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return serializeSafetensors(tensors, {
    format: 'drift-optimizer',
    config: JSON.stringify(state.config),
    step: String(state.step),
  });
}

async function pruneCheckpoints(checkpointsDir: string, keep: number, current: string): Promise<void> {
  const names = (await readdir(checkpointsDir)).filter((name) => STEP_FOLDER.test(name));
  const newestFirst = names.sort((a, b) => stepOf(b) - stepOf(a));
  const kept = new Set([...newestFirst.slice(0, Math.max(1, keep)), current]);
  for (const name of newestFirst) {
    if (!kept.has(name)) await rm(path.join(checkpointsDir, name), { recursive: true, force: true });
  }
}

function stepOf(name: string): number {
  return Number(STEP_FOLDER.exec(name)?.[1] ?? -1);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

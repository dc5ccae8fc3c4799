/**
 * Models in the workspace: `<workspace>/models/<id>/` holds an HF folder (config.json, the
 * safetensors weights, the tokenizer files). Importing copies a local HF folder there after
 * checking it loads; inspecting reads what the Models view lists (architecture, weights, dtype,
 * tokenizer) without loading the weights.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { AppFailure, type ModelEntry, type ModelSummary, type TokenizerSummary } from '../../api/index.js';
import type { Tokenizer } from '../text/index.js';
import { loadOptionalTokenizer } from '../text/index.js';
import { fsyncFolder, isFile, pathExists } from '../workspace/atomic.js';
import { ENTRY_FOLDERS, modelDir, resolveInside } from '../workspace/layout.js';
import type { ModelConfig } from './config.js';
import { readConfigFile } from './config.js';
import { MAX_HEADER_BYTES } from './safetensors.js';

// The file names of model.ts, repeated so this module (which the host process uses to list and
// inspect models) does not load tfjs with model.ts.
const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';
const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
const SHARD_FILE = /^model-\d+-of-\d+\.safetensors$/;
/** Buffers HF checkpoints may hold that are not weights (as model.ts skips them). */
const BUFFER_TENSORS = [/\.attn\.(masked_)?bias$/, /\.rotary_emb\.inv_freq$/];

/** Files an import copies besides the weights: the tokenizer, generation settings, licence and card. */
const COPIED_FILES = new Set([
  CONFIG_FILE,
  WEIGHTS_FILE,
  WEIGHTS_INDEX_FILE,
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja',
  'README.md',
]);
const COPIED_PATTERN = /^(LICENSE|LICENCE|NOTICE|USE_POLICY)[A-Za-z0-9._-]*$/;

const TORCH_DTYPE_NAMES: Readonly<Record<string, string>> = {
  F32: 'float32',
  BF16: 'bfloat16',
  F16: 'float16',
  F64: 'float64',
};

/**
 * The files beside the weights of a model folder saved with its tokenizer: tokenizer.json,
 * tokenizer_config.json and generation_config.json (its special token ids), as transformers
 * writes them; pass them to saveHfModel's `extraFiles`.
 */
export function tokenizerFiles(config: ModelConfig, tokenizer: Tokenizer): Record<string, string> {
  const { tokenizer: tokenizerJson, config: tokenizerConfig } = tokenizer.toJSON();
  const generation = {
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    pad_token_id: config.padTokenId,
    transformers_version: '4.46.0',
  };
  return {
    'tokenizer.json': `${JSON.stringify(tokenizerJson, null, 2)}\n`,
    'tokenizer_config.json': `${JSON.stringify(tokenizerConfig, null, 2)}\n`,
    'generation_config.json': `${JSON.stringify(generation, null, 2)}\n`,
  };
}

export function summarizeTokenizer(tokenizer: Tokenizer): TokenizerSummary {
  const { bos, eos, pad } = tokenizer.specialTokens;
  return {
    vocabSize: tokenizer.vocabSize,
    bosToken: bos?.content ?? null,
    eosToken: eos?.content ?? null,
    padToken: pad?.content ?? null,
    hasChatTemplate: tokenizer.chatTemplate !== null,
  };
}

/**
 * Reads a model folder's summary without loading its weights (config.json, the safetensors
 * headers, the tokenizer). A reward model (`*ForSequenceClassification`) is read too: its summary
 * has role `reward`, its class name and its weights (the score head included), and `config` is its
 * decoder's.
 * @throws AppFailure `model_folder_invalid`, `model_config_invalid`, `model_unsupported_architecture`,
 * `safetensors_invalid`, `tokenizer_invalid`
 */
export async function inspectModelFolder(
  folder: string,
): Promise<{ summary: ModelSummary; config: ModelConfig; configJson: Record<string, unknown> }> {
  if (!path.isAbsolute(folder)) {
    throw new AppFailure('model_folder_invalid', `${folder} is not an absolute path to a model folder.`, { folder });
  }
  const { config, json: configJson, architecture, role } = await readConfigFile(folder, { acceptReward: true });
  const { dtypes, parameters } = await weightSummary(folder, config);
  const tokenizer = await loadOptionalTokenizer(folder);
  let sizeBytes = 0;
  for (const name of await readdir(folder)) {
    const info = await stat(path.join(folder, name));
    if (info.isFile()) sizeBytes += info.size;
  }
  return {
    config,
    configJson,
    summary: {
      architecture,
      modelType: config.modelType,
      parameters,
      dtype: [...dtypes].map((dtype) => TORCH_DTYPE_NAMES[dtype] ?? dtype.toLowerCase()).join('+') || 'none',
      vocabSize: config.vocabSize,
      contextLength: config.maxPositionEmbeddings,
      hiddenSize: config.hiddenSize,
      layers: config.numHiddenLayers,
      tokenizer: tokenizer === null ? null : summarizeTokenizer(tokenizer),
      sizeBytes,
      role,
    },
  };
}

/**
 * The folder a model reference names: an absolute path as given, else the workspace model with
 * that id.
 * @throws AppFailure `path_outside_workspace` for an id that is not a plain name
 */
export function resolveModelFolder(workspaceDir: string, reference: string): string {
  return path.isAbsolute(reference) ? reference : modelDir(workspaceDir, reference);
}

/** A catalog id made from a name (lowercase letters, digits, dashes), unused in `<workspace>/models/`. */
export async function newModelId(workspaceDir: string, name: string): Promise<string> {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9._]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 60) || 'model';
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 ? slug : `${slug}-${attempt}`;
    if (!(await pathExists(modelDir(workspaceDir, id)))) return id;
  }
}

export interface ImportModelOptions {
  /** Called with bytes copied and bytes in all. */
  onProgress?(done: number, total: number, file: string): void;
  signal?: AbortSignal;
}

/**
 * Copies a local HF folder into `<workspace>/models/<id>/` after checking that it loads (config,
 * every weight with its shape; the tokenizer when it has one): as a causal LM, or as a reward model
 * when it is one. The folder appears complete or not at all (staging folder, fsync, rename).
 * @throws AppFailure as {@link inspectModelFolder}, loadHfModel and loadRewardModel (a reward model
 * needs its tokenizer); `model_folder_exists`
 */
export async function importModelFolder(
  source: string,
  workspaceDir: string,
  id: string,
  options: ImportModelOptions = {},
): Promise<ModelSummary> {
  const { summary } = await inspectModelFolder(source);
  // Loading checks every weight against the config; the copy is then known to load. A reward
  // model is checked by its own loader (eval/, imported lazily as it builds on this folder).
  if (summary.role === 'reward') {
    const { loadRewardModel } = await import('../eval/reward-model.js');
    (await loadRewardModel(source)).dispose();
  } else {
    const { loadHfModel } = await import('./model.js');
    (await loadHfModel(source, { trainable: false })).dispose();
  }

  const target = modelDir(workspaceDir, id);
  if (await pathExists(target))
    throw new AppFailure('model_folder_exists', `${target} already exists.`, { folder: target });
  const names = (await readdir(source))
    .filter((name) => COPIED_FILES.has(name) || COPIED_PATTERN.test(name) || SHARD_FILE.test(name))
    .sort();
  const sizes = await Promise.all(names.map(async (name) => (await stat(path.join(source, name))).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const models = resolveInside(workspaceDir, ENTRY_FOLDERS.models);
  await mkdir(models, { recursive: true });
  const staging = path.join(models, `.${id}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    let done = 0;
    for (const name of names) {
      if (options.signal?.aborted) throw options.signal.reason ?? new AppFailure('job_cancelled');
      await copyDurably(path.join(source, name), path.join(staging, name), (bytes) => {
        done += bytes;
        options.onProgress?.(done, total, name);
      });
    }
    await fsyncFolder(staging);
    await rename(staging, target);
    await fsyncFolder(models);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  return { ...summary, sizeBytes: total };
}

/** What `model:get` answers for a workspace model: its files read back. */
export async function describeWorkspaceModel(
  workspaceDir: string,
  entry: ModelEntry,
): Promise<{
  entry: ModelEntry;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown> | null;
  tokenizer: TokenizerSummary | null;
  chatTemplate: string | null;
  files: { name: string; bytes: number }[];
}> {
  const folder = modelDir(workspaceDir, entry.id);
  const { json } = await readConfigFile(folder, { acceptReward: true });
  let generationConfig: Record<string, unknown> | null = null;
  try {
    generationConfig = JSON.parse(await readFile(path.join(folder, 'generation_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    generationConfig = null;
  }
  const tokenizer = await loadOptionalTokenizer(folder);
  return {
    entry,
    config: json,
    generationConfig,
    tokenizer: tokenizer === null ? null : summarizeTokenizer(tokenizer),
    chatTemplate: tokenizer?.chatTemplate ?? null,
    files: await listModelFiles(folder),
  };
}

/** Removes a workspace model's folder (no error when it is already gone). */
export async function removeModelFolder(workspaceDir: string, id: string): Promise<void> {
  await rm(modelDir(workspaceDir, id), { recursive: true, force: true });
}

/** The files of a model folder with their sizes, by name. */
export async function listModelFiles(folder: string): Promise<{ name: string; bytes: number }[]> {
  const files: { name: string; bytes: number }[] = [];
  for (const name of (await readdir(folder)).sort()) {
    const info = await stat(path.join(folder, name));
    if (info.isFile()) files.push({ name, bytes: info.size });
  }
  return files;
}

// ---------------------------------------------------------------------------------------------

/** The weights' dtypes and count, from the safetensors headers only (buffers and a tied head not counted). */
async function weightSummary(
  folder: string,
  config: ModelConfig,
): Promise<{ dtypes: Set<string>; parameters: number }> {
  const files: string[] = [];
  if (await isFile(path.join(folder, WEIGHTS_FILE))) {
    files.push(path.join(folder, WEIGHTS_FILE));
  } else {
    for (const name of (await readdir(folder)).sort()) if (SHARD_FILE.test(name)) files.push(path.join(folder, name));
    if (files.length === 0) {
      throw new AppFailure('model_folder_invalid', `${folder} has no ${WEIGHTS_FILE} or sharded safetensors files.`, {
        folder,
      });
    }
  }
  const dtypes = new Set<string>();
  let parameters = 0;
  for (const file of files) {
    for (const [name, entry] of Object.entries(await readHeader(file))) {
      if (name === '__metadata__' || BUFFER_TENSORS.some((pattern) => pattern.test(name))) continue;
      if (config.tieWordEmbeddings && name === 'lm_head.weight') continue;
      const { dtype, shape } = entry as { dtype?: unknown; shape?: unknown };
      if (typeof dtype === 'string') dtypes.add(dtype);
      if (Array.isArray(shape)) parameters += shape.reduce((product: number, dim) => product * Number(dim), 1);
    }
  }
  return { dtypes, parameters };
}

/** The JSON header of a safetensors file (full validation happens when the weights load). */
async function readHeader(file: string): Promise<Record<string, unknown>> {
  const invalid = (message: string): never => {
    throw new AppFailure('safetensors_invalid', `${file}: ${message}`, { file });
  };
  const handle = await open(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    if (bytesRead < 8) invalid('the file is shorter than its 8-byte header length.');
    const length = Number(prefix.readBigUInt64LE(0));
    if (length > MAX_HEADER_BYTES) invalid(`the header claims ${length} bytes, over the ${MAX_HEADER_BYTES} limit.`);
    const header = Buffer.alloc(length);
    const read = await handle.read(header, 0, length, 8);
    if (read.bytesRead < length) invalid('the file ends inside its header.');
    const parsed: unknown = JSON.parse(header.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalid('the header is not an object.');
    return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AppFailure) throw error;
    return invalid(`the header cannot be read (${(error as Error).message}).`);
  } finally {
    await handle.close();
  }
}

/** Copies a file and fsyncs the copy, reporting bytes as they go. */
async function copyDurably(from: string, to: string, onBytes: (bytes: number) => void): Promise<void> {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
  await pipeline(createReadStream(from), counter, createWriteStream(to, { flags: 'wx' }));
  const handle = await open(to, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The family-agnostic surface of the model core: make a fresh model, load a local Hugging Face
 * folder, save any model as an HF folder, count parameters. Generation and training build on
 * {@link CausalLanguageModel} (modeling_utils.ts).
 *
 * An HF model folder (transformers' save_pretrained layout):
 *   config.json                       the architecture (config.ts reads and writes it)
 *   model.safetensors                 the weights by HF tensor name, or, for sharded checkpoints,
 *   model.safetensors.index.json      { weight_map: { name: file } } and the shard files it names
 * PyTorch pickles (pytorch_model.bin) are never loaded: a pickle can run code.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import { errorCode, fsyncFolder, writeFileAtomic, pathExists } from '../workspace/atomic.js';
import { resolveInside } from '../workspace/layout.js';
import type { ModelConfig } from './config.js';
import { readConfigFile, toHfConfig, validateModelConfig } from './config.js';
import { GPT2LMHeadModel, gpt2ParameterSpecs } from './modeling_gpt2.js';
import { LlamaForCausalLM, llamaParameterSpecs } from './modeling_llama.js';
import type { CausalLanguageModel, ParameterSpec } from './modeling_utils.js';
import { hfShape } from './modeling_utils.js';
import type { FloatDtype, SafetensorsFile, TensorToWrite } from './safetensors.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** The weights a model of this config has, by HF name, with their shapes as held in the workbench. */
export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  return config.family === 'gpt2' ? gpt2ParameterSpecs(config) : llamaParameterSpecs(config);
}

export interface CreateModelOptions {
  /** Seeds the initial weights: the same config and seed give the same weights on every backend. Default 0. */
  seed?: number;
  /** Whether optimizers may update the weights. Default true. */
  trainable?: boolean;
}

/**
 * A freshly initialised model (HF `_init_weights`: normal(0, initializerRange) matrices, GPT-2's
 * residual projections scaled by 1/√(2·layers), zero biases, unit norms).
 * @throws AppFailure `model_config_invalid`
 */
export function createModel(config: ModelConfig, options: CreateModelOptions = {}): CausalLanguageModel {
  validateModelConfig(config);
  const seed = options.seed ?? 0;
  return instantiate(config, options.trainable ?? true, (spec) => {
    switch (spec.init.kind) {
      case 'ones':
        return tf.ones(spec.shape);
      case 'zeros':
        return tf.zeros(spec.shape);
      case 'normal':
        return tf.randomNormal(spec.shape, 0, spec.init.std, 'float32', seedFor(seed, spec.name));
    }
  });
}

export interface LoadHfModelOptions {
  /** Whether optimizers may update the weights. Default true. */
  trainable?: boolean;
}

/**
 * Reads the typed config of an HF model folder without loading its weights.
 * @throws AppFailure `model_folder_invalid` (no config.json), `model_config_invalid`,
 * `model_unsupported_architecture`
 */
export async function readModelConfig(folder: string): Promise<ModelConfig> {
  return (await readConfigFile(folder)).config;
}

/**
 * Loads a local HF model folder: config.json plus model.safetensors or a sharded checkpoint
 * (F32, F16 or BF16; held as float32). Every weight the config implies must be present with its HF
 * shape, and no other tensor may be (buffers HF itself skips, such as GPT-2's attn.bias and
 * rotary_emb.inv_freq, are ignored; so is an lm_head.weight of a tied model, which HF also
 * replaces by the embedding). GPT-2 names without the `transformer.` prefix (GPT2Model checkpoints)
 * are accepted.
 * @throws AppFailure `model_folder_invalid`, `model_config_invalid`, `model_unsupported_architecture`,
 * `safetensors_invalid`, `model_weights_mismatch` (naming the tensor)
 */
export async function loadHfModel(folder: string, options: LoadHfModelOptions = {}): Promise<CausalLanguageModel> {
  const config = await readModelConfig(folder);
  const files = await readWeightFiles(folder);
  const specs = parameterSpecs(config);
  const located = locateTensors(specs, files, config);
  return instantiate(config, options.trainable ?? true, (spec) => {
    const { file, name } = located.get(spec.name) as { file: SafetensorsFile; name: string };
    const values = file.readFloat32(name);
    return tf.tensor(spec.transposed ? transpose2d(values, hfShape(spec)) : values, spec.shape, 'float32');
  });
}

export interface SaveHfModelOptions {
  /** The dtype of the saved weights. Default F32 (what the model holds; BF16 and F16 round). */
  dtype?: FloatDtype;
  /** Replace an existing folder. Default false: an existing folder is `model_folder_exists`. */
  overwrite?: boolean;
  /**
   * More files to place in the folder in the same atomic step, by plain file name
   * (tokenizer.json, tokenizer_config.json, generation_config.json, ...).
   */
  extraFiles?: Readonly<Record<string, string | Uint8Array>>;
}

/**
 * Saves a model as an HF folder that transformers' `from_pretrained` loads: config.json (with
 * architectures and model_type) and model.safetensors with the HF tensor names and shapes
 * (metadata format "pt"; a tied head is not stored twice, as HF does). The folder appears
 * complete or not at all: files are written and fsynced in a staging folder beside it, which is
 * then renamed into place.
 * @throws AppFailure `model_folder_exists`, `model_input_invalid` (disposed model, an extra file named
 * like the model's own), `path_outside_workspace` (an extra file name with a folder); file system errors
 */
export async function saveHfModel(
  model: CausalLanguageModel,
  folder: string,
  options: SaveHfModelOptions = {},
): Promise<void> {
  if (model.disposed) throw new AppFailure('model_input_invalid', 'The model has been disposed.');
  const target = path.resolve(folder);
  const parent = path.dirname(target);
  const exists = await pathExists(target);
  if (exists && options.overwrite !== true) {
    throw new AppFailure('model_folder_exists', `${target} already exists.`, { folder: target });
  }
  for (const name of Object.keys(options.extraFiles ?? {})) {
    if (path.basename(name) !== name || name === '.' || name === '..') {
      throw new AppFailure(
        'path_outside_workspace',
        `The extra file name ${JSON.stringify(name)} is not a plain file name.`,
      );
    }
    if (name === CONFIG_FILE || name === WEIGHTS_FILE || name === WEIGHTS_INDEX_FILE) {
      throw new AppFailure('model_input_invalid', `The extra file ${name} would replace the model's own ${name}.`);
    }
  }
  const dtype = options.dtype ?? 'F32';
  const tensors = await hfTensors(model, dtype);
  const files: [string, string | Uint8Array][] = [
    [WEIGHTS_FILE, serializeSafetensors(tensors, { format: 'pt' })],
    [CONFIG_FILE, `${JSON.stringify(toHfConfig(model.config, TORCH_DTYPES[dtype]), null, 2)}\n`],
    ...Object.entries(options.extraFiles ?? {}),
  ];

  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.staging-${suffix}`);
  await mkdir(staging);
  try {
    for (const [name, data] of files) {
      if (path.basename(name) !== name) {
        throw new AppFailure(
          'path_outside_workspace',
          `The extra file name ${JSON.stringify(name)} is not a plain file name.`,
        );
      }
      await writeFileAtomic(resolveInside(staging, name), data);
    }
    if (exists) {
      // The old folder moves aside first: a crash leaves it beside the target, never a mix of both.
      const retired = path.join(parent, `.${path.basename(target)}.replaced-${suffix}`);
      await rename(target, retired);
      await rename(staging, target);
      await rm(retired, { recursive: true, force: true });
    } else {
      await rename(staging, target);
    }
    await fsyncFolder(parent);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** The number of weights (a tied head counts once). */
export function countParameters(model: CausalLanguageModel): number {
  let total = 0;
  for (const variable of model.parameters().values()) total += variable.size;
  return total;
}

// ---------------------------------------------------------------------------------------------

const TORCH_DTYPES = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' } as const;

/** Builds the model, disposing every tensor made so far if a value cannot be made. */
function instantiate(
  config: ModelConfig,
  trainable: boolean,
  valueOf: (spec: ParameterSpec) => Tensor,
): CausalLanguageModel {
  const variables = new Map<string, Variable>();
  try {
    for (const spec of parameterSpecs(config)) {
      const initial = valueOf(spec);
      try {
        // Unnamed: tfjs variable names are process-wide, and two models (policy and reference) share names.
        variables.set(spec.name, tf.variable(initial, trainable));
      } finally {
        initial.dispose();
      }
    }
    return config.family === 'gpt2' ? new GPT2LMHeadModel(config, variables) : new LlamaForCausalLM(config, variables);
  } catch (error) {
    tf.dispose([...variables.values()]);
    throw error;
  }
}

/** The tensors to save under their HF names and shapes, sorted by name. */
async function hfTensors(model: CausalLanguageModel, dtype: FloatDtype): Promise<TensorToWrite[]> {
  const parameters = model.parameters();
  const tensors: TensorToWrite[] = [];
  for (const spec of model.specs) {
    const variable = parameters.get(spec.name);
    if (variable === undefined) throw new Error(`The model lacks its parameter ${spec.name}.`);
    const values = (await variable.data()) as Float32Array;
    const data = spec.transposed ? transpose2d(values, spec.shape) : values;
    tensors.push({ name: spec.name, shape: hfShape(spec), data, dtype });
  }
  return tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

interface WeightFile {
  name: string;
  file: SafetensorsFile;
}

/** model.safetensors, or every shard of model.safetensors.index.json (checked against its weight_map). */
async function readWeightFiles(folder: string): Promise<WeightFile[]> {
  const single = path.join(folder, WEIGHTS_FILE);
  if (await pathExists(single)) return [{ name: WEIGHTS_FILE, file: parseSafetensors(await readFile(single), single) }];
  const indexFile = path.join(folder, WEIGHTS_INDEX_FILE);
  if (!(await pathExists(indexFile))) {
    const pickle = await pathExists(path.join(folder, 'pytorch_model.bin'));
    throw new AppFailure(
      'model_folder_invalid',
      `${folder} has no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}` +
        (pickle ? ' (it has pytorch_model.bin, a pickle, which the workbench never loads).' : '.'),
      { folder },
    );
  }
  const weightMap = parseIndex(await readFile(indexFile, 'utf8'), indexFile);
  const shards = [...new Set(Object.values(weightMap))];
  const files: WeightFile[] = [];
  for (const shard of shards) {
    let shardPath: string;
    try {
      shardPath = resolveInside(folder, shard);
    } catch {
      throw new AppFailure(
        'model_folder_invalid',
        `${indexFile} names the shard ${JSON.stringify(shard)} outside the folder.`,
        {
          file: indexFile,
        },
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(shardPath);
    } catch (error) {
      throw new AppFailure(
        'model_folder_invalid',
        `${indexFile} names ${shard}, which cannot be read (${errorCode(error) ?? 'unreadable'}).`,
        {
          file: indexFile,
        },
      );
    }
    files.push({ name: shard, file: parseSafetensors(bytes, shardPath) });
  }
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (!files.find((file) => file.name === shard)?.file.tensors.has(tensor)) {
      throw new AppFailure(
        'model_weights_mismatch',
        `${indexFile} places "${tensor}" in ${shard}, which does not hold it.`,
        {
          tensor,
        },
      );
    }
  }
  return files;
}

function parseIndex(text: string, file: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppFailure('model_folder_invalid', `${file} is not valid JSON (${(error as Error).message}).`, { file });
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (
    typeof weightMap !== 'object' ||
    weightMap === null ||
    Array.isArray(weightMap) ||
    !Object.values(weightMap).every((shard) => typeof shard === 'string')
  ) {
    throw new AppFailure('model_folder_invalid', `${file} has no weight_map of tensor name → file name.`, { file });
  }
  return weightMap as Record<string, string>;
}

/** Tensors HF checkpoints may hold that are buffers, not weights; loaders skip them. */
const IGNORED_TENSORS = [/\.attn\.(masked_)?bias$/, /\.rotary_emb\.inv_freq$/];

/**
 * Finds each spec's tensor in the files and checks dtype and shape; refuses missing and unexpected
 * tensors. Returns spec name → (file, name in the file).
 */
function locateTensors(
  specs: readonly ParameterSpec[],
  files: readonly WeightFile[],
  config: ModelConfig,
): Map<string, { file: SafetensorsFile; name: string }> {
  const available = new Map<string, SafetensorsFile>();
  for (const { file } of files) for (const name of file.tensors.keys()) available.set(name, file);
  const mismatch = (message: string, tensor: string): AppFailure =>
    new AppFailure('model_weights_mismatch', message, { tensor });

  const located = new Map<string, { file: SafetensorsFile; name: string }>();
  const used = new Set<string>();
  for (const spec of specs) {
    // GPT2Model checkpoints (openai-community/gpt2 itself) name weights without "transformer.".
    const candidates = config.family === 'gpt2' ? [spec.name, spec.name.replace(/^transformer\./, '')] : [spec.name];
    const name = candidates.find((candidate) => available.has(candidate));
    if (name === undefined) {
      throw mismatch(`The weights lack "${spec.name}", which the config implies.`, spec.name);
    }
    const file = available.get(name) as SafetensorsFile;
    const entry = file.tensors.get(name);
    const expected = hfShape(spec);
    if (entry === undefined || entry.shape.join(',') !== expected.join(',')) {
      throw mismatch(
        `"${name}" has shape [${entry?.shape.join(', ')}]; the config implies [${expected.join(', ')}].`,
        spec.name,
      );
    }
    if (!['F32', 'F16', 'BF16', 'F64'].includes(entry.dtype)) {
      throw mismatch(`"${name}" is ${entry.dtype}; weights must be F32, F16, BF16 or F64.`, spec.name);
    }
    located.set(spec.name, { file, name });
    used.add(name);
  }
  const unexpected = [...available.keys()].filter(
    (name) =>
      !used.has(name) &&
      !IGNORED_TENSORS.some((pattern) => pattern.test(name)) &&
      !(config.tieWordEmbeddings && name === 'lm_head.weight'),
  );
  if (unexpected.length > 0) {
    const listed = unexpected
      .slice(0, 5)
      .map((name) => `"${name}"`)
      .join(', ');
    throw mismatch(
      `The weights hold ${unexpected.length} tensor(s) the config does not imply: ${listed}` +
        `${unexpected.length > 5 ? ', …' : ''}. Is config.json the one these weights were saved with?`,
      unexpected[0] as string,
    );
  }
  return located;
}

/** Row-major transpose of a (rows, columns) matrix. */
function transpose2d(values: Float32Array, [rows, columns]: readonly number[]): Float32Array {
  const rowCount = rows ?? 0;
  const columnCount = columns ?? 0;
  const out = new Float32Array(values.length);
  for (let row = 0; row < rowCount; row++) {
    const offset = row * columnCount;
    for (let column = 0; column < columnCount; column++) out[column * rowCount + row] = values[offset + column] ?? 0;
  }
  return out;
}

/** A 32-bit seed per parameter, from the model seed and the parameter's name (FNV-1a). */
function seedFor(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

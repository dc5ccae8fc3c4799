import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, Tensor2D, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../../src-main/api/index.js';
import type { ErrorCode } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { ModelConfig } from '../../../src-main/engine/model/config.js';
import { gpt2Config, llamaConfig, readHfConfig } from '../../../src-main/engine/model/config.js';
import {
  countParameters,
  createModel,
  loadHfModel,
  parameterSpecs,
  readModelConfig,
  saveHfModel,
} from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel, KeyValueCache } from '../../../src-main/engine/model/modeling_utils.js';
import { disposeCache } from '../../../src-main/engine/model/modeling_utils.js';
import { readSafetensors, serializeSafetensors } from '../../../src-main/engine/model/safetensors.js';
import {
  BACKENDS,
  TINY_GPT2,
  TINY_LLAMA,
  TINY_QWEN3,
  maxAbsDifference,
  recordProducts,
  take,
  useBackend,
} from './helpers.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'model-'));
  await useBackend('wasm');
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let folderCount = 0;
const freshFolder = () => path.join(scratch, `folder-${++folderCount}`);

async function failureOf(run: () => Promise<unknown>): Promise<AppFailure> {
  try {
    await run();
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected an AppFailure');
}

async function expectFailure(run: () => Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  const failure = await failureOf(run);
  expect(failure.code).toBe(code);
  expect(failure.message).toMatch(message);
}

/** Logits of `ids` (rows of equal length), with an optional attention mask, as a flat array. */
function logitsOf(model: CausalLanguageModel, ids: number[][], mask?: number[][]): Float32Array {
  const input = tf.tensor2d(ids, undefined, 'int32');
  const attentionMask = mask === undefined ? undefined : tf.tensor2d(mask, undefined, 'int32');
  try {
    return take(model.forward(input, attentionMask === undefined ? {} : { attentionMask }).logits);
  } finally {
    tf.dispose([input, ...(attentionMask === undefined ? [] : [attentionMask])]);
  }
}

/** Mean next-token cross-entropy of `ids` (B, T) under the model. */
function languageModelLoss(model: CausalLanguageModel, ids: Tensor2D): tf.Scalar {
  const [batch, time] = ids.shape;
  const { logits } = model.forward(ids.slice([0, 0], [batch, time - 1]) as Tensor2D); // (B, T−1, V)
  const targets = ids.slice([0, 1], [batch, time - 1]).reshape([-1]); // (B·(T−1))
  const vocabulary = logits.shape[2];
  return tf.losses.softmaxCrossEntropy(tf.oneHot(targets as tf.Tensor1D, vocabulary), logits.reshape([-1, vocabulary]));
}

const SIZES = { vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4 };

/** One small config per architecture the issue names. */
const VARIANTS: [string, ModelConfig][] = [
  ['Llama 2 style (multi-head, untied, θ 1e4)', llamaConfig({ ...SIZES, tieWordEmbeddings: false })],
  [
    'Llama 3 style (GQA, llama3 RoPE scaling)',
    llamaConfig({
      ...SIZES,
      numKeyValueHeads: 2,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 },
    }),
  ],
  ['Llama with attention and MLP bias', llamaConfig({ ...SIZES, attentionBias: true, mlpBias: true })],
  [
    'Qwen2 (q/k/v bias, tied)',
    llamaConfig({ ...SIZES, modelType: 'qwen2', numKeyValueHeads: 2, tieWordEmbeddings: true }),
  ],
  [
    'Qwen3 (q/k norm, head_dim 8 ≠ 16/4)',
    llamaConfig({ ...SIZES, modelType: 'qwen3', numKeyValueHeads: 1, headDim: 8 }),
  ],
  ['Mistral', llamaConfig({ ...SIZES, modelType: 'mistral', numKeyValueHeads: 2 })],
  [
    'SmolLM (Llama, tied, GQA)',
    llamaConfig({ ...SIZES, numKeyValueHeads: 2, tieWordEmbeddings: true, ropeTheta: 100000 }),
  ],
  ['GPT-2 (tied)', gpt2Config({ ...SIZES, maxPositionEmbeddings: 32 })],
  [
    'GPT-2 (untied, exact GELU)',
    gpt2Config({ ...SIZES, maxPositionEmbeddings: 32, tieWordEmbeddings: false, activation: 'gelu' }),
  ],
];

const IDS = [
  [3, 17, 5, 29, 8, 1],
  [12, 0, 39, 7, 7, 22],
];

describe('every architecture builds, runs and trains', () => {
  it.each(VARIANTS)('%s', (_name, config) => {
    const model = createModel(config, { seed: 7 });
    try {
      const names = [...model.parameters().keys()];
      expect(names).toEqual(parameterSpecs(config).map((spec) => spec.name));
      expect(countParameters(model)).toBe(
        parameterSpecs(config).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0),
      );
      const logits = logitsOf(model, IDS);
      expect(logits).toHaveLength(2 * 6 * config.vocabSize);
      expect(logits.every(Number.isFinite)).toBe(true);

      // Every weight receives a gradient: each one is wired into the forward pass.
      const ids = tf.tensor2d(IDS, undefined, 'int32');
      const variables = [...model.parameters().values()];
      const { value, grads } = tf.variableGrads(() => languageModelLoss(model, ids), variables);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const [name, variable] of model.parameters()) {
        const gradient = grads[variable.name];
        expect(gradient?.shape, name).toEqual(variable.shape);
        expect(Math.max(...(gradient!.abs().dataSync() as Float32Array)), name).toBeGreaterThan(0);
      }
      tf.dispose([value, ids, ...Object.values(grads)]);
    } finally {
      model.dispose();
    }
  });

  it('names parameters as HF does, per architecture', () => {
    const names = (config: ModelConfig) => parameterSpecs(config).map((spec) => spec.name);
    const [qwen2, qwen3, gpt2Untied] = [VARIANTS[3]![1], VARIANTS[4]![1], VARIANTS[8]![1]];
    expect(names(qwen2)).toContain('model.layers.1.self_attn.v_proj.bias');
    expect(names(qwen2)).not.toContain('model.layers.1.self_attn.o_proj.bias');
    expect(names(qwen2)).not.toContain('lm_head.weight');
    expect(names(qwen3)).toContain('model.layers.0.self_attn.k_norm.weight');
    expect(names(qwen3)).toContain('lm_head.weight');
    expect(names(gpt2Untied)).toEqual(expect.arrayContaining(['transformer.h.1.mlp.c_proj.weight', 'lm_head.weight']));
  });

  it('the same seed gives the same weights, another seed others', () => {
    const config = VARIANTS[1]![1];
    const [a, b, c] = [
      createModel(config, { seed: 1 }),
      createModel(config, { seed: 1 }),
      createModel(config, { seed: 2 }),
    ];
    const weightsOf = (model: CausalLanguageModel) =>
      Array.from(model.parameters().get('model.layers.0.self_attn.q_proj.weight')!.dataSync());
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)).not.toEqual(weightsOf(c));
    // Normal(0, 0.02) initialisation, unit norms.
    const values = weightsOf(a);
    const deviation = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0) / values.length);
    expect(deviation).toBeGreaterThan(0.015);
    expect(deviation).toBeLessThan(0.025);
    expect(Array.from(a.parameters().get('model.norm.weight')!.dataSync()).every((value) => value === 1)).toBe(true);
    [a, b, c].forEach((model) => model.dispose());
  });
});

describe('save → load', () => {
  it.each(VARIANTS)('%s: the loaded model gives identical logits', async (_name, config) => {
    const model = createModel(config, { seed: 3 });
    const folder = freshFolder();
    try {
      await saveHfModel(model, folder, { extraFiles: { 'generation_config.json': '{}\n' } });
      expect((await readdir(folder)).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
      const loaded = await loadHfModel(folder);
      try {
        expect(loaded.config).toEqual(model.config);
        expect(maxAbsDifference(logitsOf(loaded, IDS), logitsOf(model, IDS))).toBe(0);
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('writes HF names and HF shapes ([out, in] for nn.Linear), no separate tied head, metadata format pt', async () => {
    const model = await loadHfModel(TINY_LLAMA);
    const folder = freshFolder();
    await saveHfModel(model, folder);
    model.dispose();
    const [original, saved] = [
      await readSafetensors(path.join(TINY_LLAMA, 'model.safetensors')),
      await readSafetensors(path.join(folder, 'model.safetensors')),
    ];
    expect(saved.metadata).toEqual({ format: 'pt' });
    expect([...saved.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    expect(saved.tensors.has('lm_head.weight')).toBe(false);
    for (const [name, entry] of original.tensors) {
      expect(saved.tensors.get(name)?.shape, name).toEqual(entry.shape);
      expect(saved.readFloat32(name), name).toEqual(original.readFloat32(name));
    }
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'float32' });
    expect(readHfConfig(config)).toEqual(await readModelConfig(TINY_LLAMA));
  });

  it('saves BF16 weights that load back close to the float32 ones', async () => {
    const model = await loadHfModel(TINY_QWEN3);
    const folder = freshFolder();
    await saveHfModel(model, folder, { dtype: 'BF16' });
    const saved = await readSafetensors(path.join(folder, 'model.safetensors'));
    expect(saved.tensors.get('model.embed_tokens.weight')?.dtype).toBe('BF16');
    expect(JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'))).toMatchObject({
      torch_dtype: 'bfloat16',
    });
    const loaded = await loadHfModel(folder);
    const difference = maxAbsDifference(
      logitsOf(
        loaded,
        IDS.map((row) => row.map((id) => id % 32)),
      ),
      logitsOf(
        model,
        IDS.map((row) => row.map((id) => id % 32)),
      ),
    );
    expect(difference).toBeGreaterThan(0);
    expect(difference).toBeLessThan(0.1);
    [model, loaded].forEach((item) => item.dispose());
  });

  it('refuses an existing folder unless told to overwrite, and leaves no staging folder', async () => {
    const model = createModel(VARIANTS[0]![1]);
    const folder = freshFolder();
    await mkdir(folder);
    await writeFile(path.join(folder, 'old.txt'), 'old');
    await expectFailure(() => saveHfModel(model, folder), 'model_folder_exists', /already exists/);
    await saveHfModel(model, folder, { overwrite: true });
    expect((await readdir(folder)).sort()).toEqual(['config.json', 'model.safetensors']);
    expect((await readdir(scratch)).filter((name) => name.startsWith('.'))).toEqual([]);
    await expectFailure(
      () => saveHfModel(model, freshFolder(), { extraFiles: { '../escape.txt': 'x' } }),
      'path_outside_workspace',
      /not a plain file name/,
    );
    await expectFailure(
      () => saveHfModel(model, freshFolder(), { extraFiles: { 'config.json': '{}' } }),
      'model_input_invalid',
      /would replace the model's own config.json/,
    );
    expect((await readdir(scratch)).filter((name) => name.startsWith('.'))).toEqual([]);
    model.dispose();
  });
});

describe('loading HF folders', () => {
  /** A copy of a fixture folder to modify. */
  async function copyOf(source: string): Promise<string> {
    const folder = freshFolder();
    await mkdir(folder);
    for (const name of await readdir(source)) await copyFile(path.join(source, name), path.join(folder, name));
    return folder;
  }

  /** Rewrites a copy's model.safetensors with `change` applied to its tensors. */
  async function withTensors(
    source: string,
    change: (tensors: { name: string; shape: number[]; data: Float32Array }[]) => typeof tensors,
  ): Promise<string> {
    const folder = await copyOf(source);
    const file = await readSafetensors(path.join(source, 'model.safetensors'));
    const tensors = [...file.tensors.values()].map((entry) => ({
      name: entry.name,
      shape: entry.shape,
      data: file.readFloat32(entry.name),
    }));
    await writeFile(path.join(folder, 'model.safetensors'), serializeSafetensors(change(tensors), { format: 'pt' }));
    return folder;
  }

  it('loads a sharded checkpoint (model.safetensors.index.json) with the same logits', async () => {
    const folder = await copyOf(TINY_LLAMA);
    const file = await readSafetensors(path.join(TINY_LLAMA, 'model.safetensors'));
    const entries = [...file.tensors.values()];
    const shards = [entries.slice(0, 7), entries.slice(7)];
    const weightMap: Record<string, string> = {};
    for (const [index, shard] of shards.entries()) {
      const name = `model-0000${index + 1}-of-00002.safetensors`;
      const tensors = shard.map((entry) => ({
        name: entry.name,
        shape: entry.shape,
        data: file.readFloat32(entry.name),
      }));
      await writeFile(path.join(folder, name), serializeSafetensors(tensors, { format: 'pt' }));
      for (const entry of shard) weightMap[entry.name] = name;
    }
    await rm(path.join(folder, 'model.safetensors'));
    await writeFile(
      path.join(folder, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const [single, sharded] = [await loadHfModel(TINY_LLAMA), await loadHfModel(folder)];
    const ids = [[3, 10, 17, 24, 31, 6]];
    expect(maxAbsDifference(logitsOf(sharded, ids), logitsOf(single, ids))).toBe(0);
    [single, sharded].forEach((model) => model.dispose());

    await writeFile(
      path.join(folder, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { ...weightMap, 'model.norm.weight': 'model-00001-of-00002.safetensors' } }),
    );
    await expectFailure(
      () => loadHfModel(folder),
      'model_weights_mismatch',
      /places "model.norm.weight" in model-00001/,
    );
    await writeFile(
      path.join(folder, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: '../../x.safetensors' } }),
    );
    await expectFailure(() => loadHfModel(folder), 'model_folder_invalid', /outside the folder/);
  });

  it('loads GPT2Model-style names (no "transformer." prefix) and skips attn.bias buffers', async () => {
    const folder = await withTensors(TINY_GPT2, (tensors) => [
      ...tensors.map((tensor) => ({ ...tensor, name: tensor.name.replace(/^transformer\./, '') })),
      { name: 'h.0.attn.bias', shape: [1, 1, 16, 16], data: new Float32Array(256) },
    ]);
    const [reference, renamed] = [await loadHfModel(TINY_GPT2), await loadHfModel(folder)];
    expect(maxAbsDifference(logitsOf(renamed, [[5, 12, 7]]), logitsOf(reference, [[5, 12, 7]]))).toBe(0);
    [reference, renamed].forEach((model) => model.dispose());
  });

  it('names a missing tensor, a wrong shape and an unexpected tensor (model_weights_mismatch)', async () => {
    const missing = await withTensors(TINY_QWEN3, (tensors) =>
      tensors.filter((t) => t.name !== 'model.layers.1.self_attn.q_norm.weight'),
    );
    await expectFailure(
      () => loadHfModel(missing),
      'model_weights_mismatch',
      /lack "model.layers.1.self_attn.q_norm.weight"/,
    );
    const reshaped = await withTensors(TINY_QWEN3, (tensors) =>
      tensors.map((t) => (t.name === 'model.layers.0.self_attn.q_proj.weight' ? { ...t, shape: [16, 32] } : t)),
    );
    await expectFailure(
      () => loadHfModel(reshaped),
      'model_weights_mismatch',
      /"model.layers.0.self_attn.q_proj.weight" has shape \[16, 32\]; the config implies \[32, 16\]/,
    );
    const extra = await withTensors(TINY_QWEN3, (tensors) => [
      ...tensors,
      { name: 'model.extra.weight', shape: [2], data: new Float32Array(2) },
    ]);
    await expectFailure(() => loadHfModel(extra), 'model_weights_mismatch', /does not imply: "model.extra.weight"/);
    // A tied model may carry lm_head.weight; HF ties it to the embedding, and so does the workbench.
    const withHead = await withTensors(TINY_QWEN3, (tensors) => [
      ...tensors,
      { name: 'lm_head.weight', shape: [32, 16], data: new Float32Array(512) },
    ]);
    (await loadHfModel(withHead)).dispose();
  });

  it('reports folder, config and file problems with their codes', async () => {
    await expectFailure(() => loadHfModel(freshFolder()), 'model_folder_invalid', /has no readable config.json/);
    const noWeights = await copyOf(TINY_LLAMA);
    await rm(path.join(noWeights, 'model.safetensors'));
    await writeFile(path.join(noWeights, 'pytorch_model.bin'), 'pickle');
    await expectFailure(() => loadHfModel(noWeights), 'model_folder_invalid', /pytorch_model.bin, a pickle/);
    const badJson = await copyOf(TINY_LLAMA);
    await writeFile(path.join(badJson, 'config.json'), '{ "model_type": ');
    await expectFailure(() => loadHfModel(badJson), 'model_config_invalid', /config.json is not valid JSON/);
    const unsupported = await copyOf(TINY_LLAMA);
    await writeFile(
      path.join(unsupported, 'config.json'),
      JSON.stringify({ model_type: 'phi', architectures: ['PhiForCausalLM'] }),
    );
    await expectFailure(
      () => loadHfModel(unsupported),
      'model_unsupported_architecture',
      /config.json: model_type "phi"/,
    );
    const truncated = await copyOf(TINY_LLAMA);
    const bytes = await readFile(path.join(TINY_LLAMA, 'model.safetensors'));
    await writeFile(path.join(truncated, 'model.safetensors'), bytes.subarray(0, bytes.length - 4));
    await expectFailure(() => loadHfModel(truncated), 'safetensors_invalid', /truncated/);
  });
});

describe.each(BACKENDS)('batches, padding and the cache on %s', (backend) => {
  const models: [string, () => Promise<CausalLanguageModel>][] = [
    ['tiny Llama (GQA)', () => loadHfModel(TINY_LLAMA)],
    ['tiny GPT-2', () => loadHfModel(TINY_GPT2)],
  ];

  it.each(models)('%s: a left-padded row gives the unpadded row its logits; right padding too', async (_name, load) => {
    await useBackend(backend);
    const model = await load();
    const V = model.config.vocabSize;
    const row = [3, 10, 17, 24, 8];
    const alone = logitsOf(model, [row]);
    const padded = logitsOf(
      model,
      [
        [0, 0, ...row],
        [5, 6, 7, 8, 9, 10, 11],
      ],
      [
        [0, 0, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
      ],
    );
    expect(maxAbsDifference(padded.slice(2 * V, 7 * V), alone)).toBeLessThan(1e-5);
    const rightPadded = logitsOf(model, [[...row, 0, 0]], [[1, 1, 1, 1, 1, 0, 0]]);
    expect(maxAbsDifference(rightPadded.slice(0, 5 * V), alone)).toBeLessThan(1e-5);
    model.dispose();
  });

  it.each(models)('%s: decoding token by token with the cache gives the full pass its logits', async (_name, load) => {
    await useBackend(backend);
    const model = await load();
    const V = model.config.vocabSize;
    const ids = [
      [0, 4, 9, 2, 11, 6, 13],
      [7, 1, 8, 3, 12, 5, 10],
    ];
    const mask = [
      [0, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1],
    ];
    const full = logitsOf(model, ids, mask);
    const before = tf.memory().numTensors;
    /** The forward pass over columns [from, to) of ids, attending to mask columns [0, to). */
    const step = (from: number, to: number, cache?: KeyValueCache) => {
      const input = tf.tensor2d(
        ids.map((row) => row.slice(from, to)),
        undefined,
        'int32',
      );
      const attentionMask = tf.tensor2d(
        mask.map((row) => row.slice(0, to)),
        undefined,
        'int32',
      );
      const output = model.forward(input, {
        attentionMask,
        useCache: true,
        logitsToKeep: 1,
        ...(cache ? { cache } : {}),
      });
      tf.dispose([input, attentionMask]);
      return output;
    };
    // Prefill 4 tokens, keeping only the last position's logits, then one token at a time.
    const prefill = step(0, 4);
    expect(prefill.logits.shape).toEqual([2, 1, V]);
    const last = take(prefill.logits);
    for (const b of [0, 1])
      expect(
        maxAbsDifference(last.slice(b * V, (b + 1) * V), full.slice((b * 7 + 3) * V, (b * 7 + 4) * V)),
      ).toBeLessThan(1e-5);
    let cache = prefill.cache as KeyValueCache;
    expect(cache.length).toBe(4);
    for (let position = 4; position < 7; position++) {
      const next = step(position, position + 1, cache);
      disposeCache(cache);
      cache = next.cache as KeyValueCache;
      const logits = take(next.logits);
      for (const b of [0, 1]) {
        const expected = full.slice((b * 7 + position) * V, (b * 7 + position + 1) * V);
        expect(maxAbsDifference(logits.slice(b * V, (b + 1) * V), expected)).toBeLessThan(1e-5);
      }
    }
    expect(cache.length).toBe(7);
    disposeCache(cache);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('inputs, lifetime and speed', () => {
  it('refuses malformed inputs with model_input_invalid', async () => {
    await useBackend('wasm');
    const [llama, gpt2] = [await loadHfModel(TINY_LLAMA), await loadHfModel(TINY_GPT2)];
    const invalid = (run: () => unknown, message: RegExp) => {
      let thrown: unknown;
      try {
        tf.tidy(() => void run());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppFailure);
      expect((thrown as AppFailure).code).toBe('model_input_invalid');
      expect((thrown as AppFailure).message).toMatch(message);
    };
    invalid(() => llama.forward(tf.tensor2d([[1, 2]])), /int32 tensor of shape/);
    invalid(
      () => llama.forward(tf.tensor2d([[1, 2]], undefined, 'int32'), { attentionMask: tf.ones([1, 3]) as Tensor2D }),
      /attentionMask must have shape \[1, 2\]/,
    );
    invalid(() => gpt2.forward(tf.zeros([1, 17], 'int32') as Tensor2D), /past GPT-2's 16 learned positions/);
    llama.dispose();
    invalid(() => llama.forward(tf.tensor2d([[1]], undefined, 'int32')), /disposed/);
    gpt2.dispose();
  });

  it('setTrainable freezes and unfreezes every weight', async () => {
    const model = await loadHfModel(TINY_GPT2, { trainable: false });
    const flags = () => [...new Set([...model.parameters().values()].map((variable: Variable) => variable.trainable))];
    expect(flags()).toEqual([false]);
    model.setTrainable(true);
    expect(flags()).toEqual([true]);
    model.dispose();
  });

  it.each(BACKENDS)('training steps and cached decoding leak no tensors (%s)', async (backend) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    for (const load of [() => loadHfModel(TINY_LLAMA), () => loadHfModel(TINY_GPT2)]) {
      const model = await load();
      const variables = [...model.parameters().values()];
      const optimizer = tf.train.adam(1e-3);
      const ids = tf.tensor2d(
        IDS.map((row) => row.map((id) => id % 32)),
        undefined,
        'int32',
      );
      const step = () => {
        const loss = optimizer.minimize(() => languageModelLoss(model, ids), true, variables) as Tensor;
        loss.dispose();
      };
      const decode = () => {
        let { cache, logits } = model.forward(ids, { useCache: true, logitsToKeep: 1 });
        for (let token = 0; token < 3; token++) {
          logits.dispose();
          const input = ids.slice([0, token], [2, 1]) as Tensor2D;
          const next = model.forward(input, { cache, useCache: true });
          input.dispose();
          disposeCache(cache);
          ({ cache, logits } = next);
        }
        logits.dispose();
        disposeCache(cache);
      };
      step(); // Adam makes its moment variables on the first step.
      decode();
      const settled = tf.memory().numTensors;
      for (let round = 0; round < 4; round++) {
        step();
        decode();
      }
      expect(tf.memory().numTensors - settled).toBe(0);
      optimizer.dispose();
      ids.dispose();
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('on wasm, every weight product of a training step takes the fast path; attention is one fused kernel', async () => {
    await useBackend('wasm');
    const model = await loadHfModel(TINY_LLAMA);
    const ids = tf.tensor2d(
      IDS.map((row) => row.map((id) => id % 32)),
      undefined,
      'int32',
    );
    const variables = [...model.parameters().values()];
    const calls = recordProducts(() => {
      const { value, grads } = tf.variableGrads(() => languageModelLoss(model, ids), variables);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const weightProducts = calls.filter((call) => call.batch === 1);
    const layers = model.config.numHiddenLayers;
    // 7 linears per layer + the head, each 1 forward and 2 backward products.
    expect(weightProducts).toHaveLength(3 * (7 * layers + 1));
    expect(weightProducts.every((call) => !call.transposed)).toBe(true);
    // Attention: no batched product; DriftAttention (fused-attention.ts) forward and backward instead.
    expect(calls.filter((call) => call.batch > 1)).toHaveLength(0);
    ids.dispose();
    model.dispose();
  });
});

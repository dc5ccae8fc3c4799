import type { Tensor2D } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { gpt2Config, llamaConfig } from '../../../src-main/engine/model/config.js';
import { generate } from '../../../src-main/engine/model/generate.js';
import { createModel, loadHfModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import { StaticCache, staticCacheSupported } from '../../../src-main/engine/model/modeling_utils.js';
import { BACKENDS, TINY_GPT2, TINY_LLAMA, TINY_QWEN3, useBackend } from './helpers.js';

/**
 * Every path of the fused kernels: LayerNorm/RMSNorm, tanh GELU and others, RoPE, q/k norm, GQA,
 * biases, and attention's wasm SIMD loops (head widths that are multiples of 4, on wasm) and its
 * JavaScript loops (on cpu, and other widths).
 */
async function architectures(): Promise<[string, CausalLanguageModel][]> {
  return [
    ['tiny GPT-2 fixture', await loadHfModel(TINY_GPT2, { trainable: false })],
    ['tiny Llama fixture', await loadHfModel(TINY_LLAMA, { trainable: false })],
    ['tiny Qwen3 fixture (q/k norm)', await loadHfModel(TINY_QWEN3, { trainable: false })],
    [
      'GPT-2, relu, inverse-layer scaling, untied head',
      createModel(
        gpt2Config({
          vocabSize: 40,
          hiddenSize: 32,
          numHiddenLayers: 2,
          numAttentionHeads: 4,
          maxPositionEmbeddings: 32,
          activation: 'relu',
          scaleAttentionByInverseLayerIndex: true,
          tieWordEmbeddings: false,
        }),
        { seed: 4 },
      ),
    ],
    [
      'GPT-2 with heads 6 wide (not a multiple of 4: JavaScript loops instead of wasm SIMD)',
      createModel(
        gpt2Config({
          vocabSize: 40,
          hiddenSize: 24,
          numHiddenLayers: 2,
          numAttentionHeads: 4,
          maxPositionEmbeddings: 32,
        }),
        { seed: 6 },
      ),
    ],
    [
      'Qwen2 with GQA (q/k/v bias, 4 query heads on 2 key/value heads)',
      createModel(
        llamaConfig({
          modelType: 'qwen2',
          vocabSize: 40,
          hiddenSize: 32,
          intermediateSize: 48,
          numHiddenLayers: 2,
          numAttentionHeads: 4,
          numKeyValueHeads: 2,
          maxPositionEmbeddings: 32,
        }),
        { seed: 5 },
      ),
    ],
  ];
}

/** Rows of the real tokens: row 1 is left-padded by 2, row 2 by 1. */
const PROMPT_MASK = [
  [1, 1, 1, 1, 1],
  [0, 0, 1, 1, 1],
  [0, 1, 1, 1, 1],
];
const PROMPT = PROMPT_MASK[0]?.length ?? 0;
const NEW = 4;

function idsFor(vocabulary: number): number[][] {
  return PROMPT_MASK.map((_, row) =>
    Array.from({ length: PROMPT + NEW }, (__, column) => (row * 7 + column * 5 + 1) % vocabulary),
  );
}

function logitsOf(model: CausalLanguageModel, ids: number[][], mask: number[][], cache?: StaticCache): number[][][] {
  return tf.tidy(() => {
    const output = model.forward(tf.tensor2d(ids, undefined, 'int32') as Tensor2D, {
      attentionMask: tf.tensor2d(mask, undefined, 'int32') as Tensor2D,
      ...(cache ? { cache } : {}),
    });
    return output.logits.arraySync();
  });
}

describe.each(BACKENDS)('the static cache on %s', (backend) => {
  let models: [string, CausalLanguageModel][];
  beforeAll(async () => {
    await useBackend(backend);
    models = await architectures();
  });
  afterAll(() => {
    for (const [, model] of models) model.dispose();
  });

  it('is available on this backend', () => {
    expect(staticCacheSupported()).toBe(true);
  });

  it('a padded prompt and then one token at a time give the logits of one uncached forward, every architecture', () => {
    for (const [name, model] of models) {
      const ids = idsFor(model.config.vocabSize);
      const fullMask = PROMPT_MASK.map((row) => [...row, ...Array<number>(NEW).fill(1)]);
      const reference = logitsOf(model, ids, fullMask); // (B, P + N, V)
      const cache = new StaticCache(model.config, ids.length, PROMPT + NEW);
      const numTensors = tf.memory().numTensors;
      const steps: number[][][][] = [
        logitsOf(
          model,
          ids.map((row) => row.slice(0, PROMPT)),
          PROMPT_MASK,
          cache,
        ),
      ];
      for (let step = 0; step < NEW; step++) {
        const column = PROMPT + step;
        steps.push(
          logitsOf(
            model,
            ids.map((row) => [row[column] as number]),
            fullMask.map((row) => row.slice(0, column + 1)),
            cache,
          ),
        );
      }
      expect(tf.memory().numTensors, name).toBe(numTensors);
      expect(cache.length, name).toBe(PROMPT + NEW);
      let worst = 0;
      PROMPT_MASK.forEach((maskRow, row) => {
        for (let column = 0; column < PROMPT + NEW; column++) {
          if (column < PROMPT && maskRow[column] === 0) continue; // padding: its outputs are never used
          const actual = column < PROMPT ? steps[0]?.[row]?.[column] : steps[column - PROMPT + 1]?.[row]?.[0];
          const expected = reference[row]?.[column] ?? [];
          expected.forEach((value, index) => {
            worst = Math.max(worst, Math.abs(value - (actual?.[index] ?? Number.NaN)));
          });
        }
      });
      expect(worst, name).toBeLessThan(1e-4);
      cache.dispose();
    }
  });

  it('generation leaks neither tensors nor backend buffers (the attention loops’ scratch memory)', async () => {
    const [, model] = models[0] as [string, CausalLanguageModel];
    const prompts = [
      [1, 2, 3],
      [4, 5],
    ];
    await generate(model, null, prompts, { maxNewTokens: 4, eosTokenIds: [] });
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let seed = 0; seed < 3; seed++)
      await generate(model, null, prompts, { maxNewTokens: 6, eosTokenIds: [], seed });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
  });

  it('refuses a call past its capacity, of another batch size, or asking for hidden states', () => {
    const [, model] = models[0] as [string, CausalLanguageModel];
    const cache = new StaticCache(model.config, 2, 3);
    const call =
      (ids: number[][], options: { outputHiddenStates?: boolean } = {}) =>
      () =>
        tf.tidy(() => {
          model.forward(tf.tensor2d(ids, undefined, 'int32') as Tensor2D, { cache, ...options });
        });
    expect(
      call([
        [1, 2, 3, 4],
        [1, 2, 3, 4],
      ]),
    ).toThrow(AppFailure);
    expect(call([[1], [2], [3]])).toThrow(/batch/);
    expect(call([[1], [2]], { outputHiddenStates: true })).toThrow(/outputHiddenStates/);
    expect(cache.length).toBe(0);
    cache.dispose();
  });
});

describe('a GPT-2 decode step with the static cache', () => {
  it('runs about a third of the kernels of the growing cache (fused norms, attention and biases)', async () => {
    await useBackend('wasm');
    const model = createModel(
      gpt2Config({
        vocabSize: 64,
        hiddenSize: 32,
        numHiddenLayers: 4,
        numAttentionHeads: 4,
        maxPositionEmbeddings: 32,
      }),
      { seed: 1 },
    );
    const prompt = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32') as Tensor2D;
    const token = tf.tensor2d([[5]], undefined, 'int32') as Tensor2D;
    const count = async (work: () => void) => (await tf.profile(work)).kernels.length;
    const cache = new StaticCache(model.config, 1, 8);
    model.forward(prompt, { cache }).logits.dispose();
    const staticKernels = await count(() => model.forward(token, { cache, logitsToKeep: 1 }).logits.dispose());
    const grown = model.forward(prompt, { useCache: true });
    grown.logits.dispose();
    const growingKernels = await count(() => {
      const output = model.forward(token, { cache: grown.cache, useCache: true, logitsToKeep: 1 });
      tf.dispose([output.logits, ...(output.cache?.layers.flatMap((layer) => [layer.key, layer.value]) ?? [])]);
    });
    // 318 against 104 on the bench's GPT-2; 2 + 4 × (norm, q/k/v product, attention, product, norm,
    // product, GELU ×3, product) + norm + head, the rest reshapes.
    expect(staticKernels).toBeLessThan(growingKernels / 2.5);
    tf.dispose([prompt, token, ...(grown.cache?.layers.flatMap((layer) => [layer.key, layer.value]) ?? [])]);
    cache.dispose();
    model.dispose();
  });

  it('generate gives the growing cache’s greedy tokens (the cpu backend’s kernels against tfjs ops on wasm would differ only in rounding)', async () => {
    await useBackend('wasm');
    const model = await loadHfModel(TINY_GPT2, { trainable: false });
    const prompts = [
      [5, 9, 13, 2],
      [7, 1],
    ];
    const results = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 10, eosTokenIds: [] });
    // The same continuation, computed by uncached full forwards (tfjs ops only).
    for (const [row, prompt] of prompts.entries()) {
      const ids = [...prompt];
      for (let step = 0; step < 10; step++) {
        const next = tf.tidy(() => {
          const { logits } = model.forward(tf.tensor2d([ids], undefined, 'int32') as Tensor2D, { logitsToKeep: 1 });
          return logits.argMax(-1).dataSync()[0] as number;
        });
        ids.push(next);
      }
      expect(results[row]?.tokens).toEqual(ids.slice(prompt.length));
    }
    model.dispose();
  });
});

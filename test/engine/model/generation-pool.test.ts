import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { llamaConfig } from '../../../src-main/engine/model/config.js';
import type { DecodeTask } from '../../../src-main/engine/model/generate.js';
import { generate } from '../../../src-main/engine/model/generate.js';
import type { GenerationPool } from '../../../src-main/engine/model/generate.js';
import { createGenerationPool, splitTask } from '../../../src-main/engine/model/generation-pool.js';
import { createModel, loadHfModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import { trainByteLevelBpe } from '../../../src-main/engine/text/index.js';
import { TINY_LLAMA, useBackend } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('splitTask', () => {
  it('cuts rows into contiguous parts that differ by at most one row, keeping batch indices', () => {
    const task: DecodeTask = {
      promptIds: [[1], [2], [3], [4], [5]],
      rowOffset: 0,
      maxNewTokens: 4,
      sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 },
      seed: 0,
      eosTokenIds: [],
    };
    expect(splitTask(task, 2).map((part) => [part.rowOffset, part.promptIds])).toEqual([
      [0, [[1], [2], [3]]],
      [3, [[4], [5]]],
    ]);
    expect(splitTask(task, 8)).toHaveLength(5);
    expect(splitTask(task, 1)[0]?.promptIds).toHaveLength(5);
  });
});

describe('generation on a pool of two threads', () => {
  let model: CausalLanguageModel;
  let pool: GenerationPool;
  beforeAll(async () => {
    model = await loadHfModel(TINY_LLAMA, { trainable: false });
    pool = await createGenerationPool(model, { threads: 2 });
  }, 60_000);
  afterAll(async () => {
    await pool.close();
    model.dispose();
  });

  const prompts = [
    [1, 5, 9, 3, 7, 11, 4],
    [1, 20],
    [1, 8, 8, 2, 30],
    [1, 4, 4],
    [1, 9, 3, 3, 3, 12],
  ];

  it('starts its worker', () => {
    expect(pool.threads).toBe(2);
    expect(pool.note).toBe('');
  });

  it('gives the tokens, finish reasons and streamed tokens of one thread (sampling, padding, EOS)', async () => {
    const free = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 8, eosTokenIds: [] });
    const eos = free[4]?.tokens[3] as number;
    for (const options of [
      { temperature: 1, topP: 0.9, repetitionPenalty: 1.2, maxNewTokens: 12, seed: 7, eosTokenIds: [] },
      { temperature: 0, maxNewTokens: 8, eosTokenIds: [eos] },
    ]) {
      const streamedAlone: [number, number][] = [];
      const alone = await generate(model, null, prompts, {
        ...options,
        onToken: (row, token) => streamedAlone.push([row, token]),
      });
      const streamedPool: [number, number][] = [];
      const pooled = await generate(model, null, prompts, {
        ...options,
        pool,
        onToken: (row, token) => streamedPool.push([row, token]),
      });
      expect(pooled).toEqual(alone);
      const byRow = (pairs: [number, number][]) => prompts.map((_, row) => pairs.filter(([r]) => r === row));
      expect(byRow(streamedPool)).toEqual(byRow(streamedAlone));
    }
    const withEos = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 8, eosTokenIds: [eos], pool });
    expect(withEos[4]?.finishReason).toBe('eos');
  });

  it('runs batches given at once one after the other, each with its own tokens', async () => {
    const options = { temperature: 1, maxNewTokens: 6, eosTokenIds: [] };
    const [first, second] = await Promise.all([
      generate(model, null, prompts, { ...options, seed: 1, pool }),
      generate(model, null, prompts.slice(1), { ...options, seed: 2, pool }),
    ]);
    expect(first).toEqual(await generate(model, null, prompts, { ...options, seed: 1 }));
    expect(second).toEqual(await generate(model, null, prompts.slice(1), { ...options, seed: 2 }));
  });

  it('rejects when aborted, and then still generates', async () => {
    const controller = new AbortController();
    const run = generate(model, null, prompts, {
      maxNewTokens: 40,
      eosTokenIds: [],
      pool,
      signal: controller.signal,
      onToken: () => controller.abort(new Error('enough')),
    });
    await expect(run).rejects.toThrow('enough');
    const after = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 3, eosTokenIds: [], pool });
    expect(after.map((row) => row.tokens.length)).toEqual([3, 3, 3, 3, 3]);
  });

  it('copies changed weights to its worker before the next batch', async () => {
    const variables = [...model.parameters().values()];
    const saved = variables.map((variable) => tf.keep(variable.clone()));
    try {
      tf.tidy(() => {
        for (const variable of variables) variable.assign(variable.mul(1.5));
      });
      pool.weightsChanged();
      const options = { temperature: 0, maxNewTokens: 6, eosTokenIds: [] };
      const alone = await generate(model, null, prompts, options);
      expect(await generate(model, null, prompts, { ...options, pool })).toEqual(alone);
    } finally {
      tf.tidy(() => variables.forEach((variable, index) => variable.assign(saved[index] as tf.Tensor)));
      tf.dispose(saved);
      pool.weightsChanged();
    }
  });

  it('ends a worker’s rows at stop strings, with the text of one thread', async () => {
    const tokenizer: Tokenizer = trainByteLevelBpe(['the cat sat on the mat and the dog sat on the log'], {
      vocabSize: 280,
      minFrequency: 1,
    });
    const small = createModel(
      llamaConfig({
        vocabSize: tokenizer.vocabSize,
        hiddenSize: 32,
        intermediateSize: 48,
        numHiddenLayers: 2,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        maxPositionEmbeddings: 96,
      }),
      { seed: 3 },
    );
    const smallPool = await createGenerationPool(small, { threads: 2 });
    try {
      const texts = ['the cat', 'the dog', 'on the', 'the mat'];
      const [free] = await generate(small, tokenizer, [texts[3] as string], {
        temperature: 0,
        maxNewTokens: 30,
        eosTokenIds: [],
      });
      const stop = (free?.text ?? '').slice(4, 6);
      const options = { temperature: 0, maxNewTokens: 30, eosTokenIds: [], stopStrings: [stop] };
      const alone = await generate(small, tokenizer, texts, options);
      expect(alone[3]?.finishReason).toBe('stop');
      expect(await generate(small, tokenizer, texts, { ...options, pool: smallPool })).toEqual(alone);
    } finally {
      await smallPool.close();
      small.dispose();
    }
  }, 60_000);
});

describe('a generation pool whose worker dies in the middle of a batch', () => {
  it('decodes that worker’s part on the calling thread, streaming each step once, with the same tokens', async () => {
    const model = await loadHfModel(TINY_LLAMA, { trainable: false });
    const workerUrl = new URL('./crashing-generation-worker.ts', import.meta.url);
    const pool = await createGenerationPool(model, { threads: 2, workerUrl });
    try {
      expect(pool.threads).toBe(2);
      const prompts = [
        [1, 2, 3],
        [1, 4],
        [1, 7, 7],
        [1, 9],
      ];
      const options = { temperature: 1, maxNewTokens: 8, seed: 4, eosTokenIds: [] };
      const streamed: number[] = [0, 0, 0, 0];
      const pooled = await generate(model, null, prompts, {
        ...options,
        pool,
        onToken: (row) => (streamed[row] = (streamed[row] ?? 0) + 1),
      });
      expect(pooled).toEqual(await generate(model, null, prompts, options));
      expect(streamed).toEqual([8, 8, 8, 8]);
      expect(pool.threads).toBe(1);
    } finally {
      await pool.close();
      model.dispose();
    }
  }, 60_000);
});

describe('a generation pool whose worker cannot start', () => {
  it('notes it, and decodes every part on the calling thread with the same tokens', async () => {
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'drift-pool-'));
    const broken = path.join(folder, 'broken-worker.mjs');
    await fs.writeFile(broken, "throw new Error('no worker here');\n");
    const model = await loadHfModel(TINY_LLAMA, { trainable: false });
    const pool = await createGenerationPool(model, { threads: 2, workerUrl: new URL(`file://${broken}`) });
    try {
      expect(pool.threads).toBe(1);
      expect(pool.note).toMatch(/did not start/);
      const prompts = [
        [1, 2, 3],
        [1, 4],
      ];
      const options = { temperature: 1, maxNewTokens: 5, seed: 2, eosTokenIds: [] };
      expect(await generate(model, null, prompts, { ...options, pool })).toEqual(
        await generate(model, null, prompts, options),
      );
    } finally {
      await pool.close();
      model.dispose();
      await fs.rm(folder, { recursive: true, force: true });
    }
  });
});

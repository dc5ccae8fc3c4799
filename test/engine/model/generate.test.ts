import { beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { llamaConfig } from '../../../src-main/engine/model/config.js';
import { drawToken, generate, samplingDistribution } from '../../../src-main/engine/model/generate.js';
import { createModel, loadHfModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import { Random } from '../../../src-main/engine/model/random.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import { trainByteLevelBpe } from '../../../src-main/engine/text/index.js';
import { TINY_LLAMA, useBackend } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** softmax of plain numbers, for hand-computed expectations. */
function softmax(values: number[]): number[] {
  const max = Math.max(...values.filter(Number.isFinite));
  const exps = values.map((value) => (Number.isFinite(value) ? Math.exp(value - max) : 0));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

function expectClose(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, index) => expect(actual[index]).toBeCloseTo(value, 12));
}

const LOGITS = [2, 1, 0, -1];

describe('samplingDistribution', () => {
  it('is the softmax of the logits by default, and of logits / T with a temperature', () => {
    expectClose(samplingDistribution(LOGITS), softmax(LOGITS));
    expectClose(samplingDistribution(LOGITS, { temperature: 0.5 }), softmax([4, 2, 0, -2]));
    expectClose(samplingDistribution(LOGITS, { temperature: 2 }), softmax([1, 0.5, 0, -0.5]));
  });

  it('is greedy (one-hot at the argmax, the first of ties) at temperature 0', () => {
    expectClose(samplingDistribution(LOGITS, { temperature: 0, topK: 1, topP: 0.1 }), [1, 0, 0, 0]);
    expectClose(samplingDistribution([1, 3, 3, 0], { temperature: 0 }), [0, 1, 0, 0]);
  });

  it('top-k keeps the k largest logits, and ties with the k-th', () => {
    expectClose(samplingDistribution(LOGITS, { topK: 2 }), [...softmax([2, 1]), 0, 0]);
    expectClose(samplingDistribution([2, 1, 1, 0], { topK: 2 }), [...softmax([2, 1, 1]), 0]);
    expectClose(samplingDistribution(LOGITS, { topK: 10 }), softmax(LOGITS));
  });

  it('top-p keeps the smallest head of the distribution whose mass reaches p (HF TopPLogitsWarper)', () => {
    // softmax(2, 1, 0, −1) = 0.6439, 0.2369, 0.0871, 0.0321. Ascending cumulative: 0.032, 0.119, 0.356, 1.
    const probabilities = softmax(LOGITS);
    expect(probabilities[0]).toBeCloseTo(0.6439, 4);
    // p = 0.8 removes the tokens while the cumulative mass is ≤ 0.2: tokens 3 and 2.
    expectClose(samplingDistribution(LOGITS, { topP: 0.8 }), [...softmax([2, 1]), 0, 0]);
    // p = 0.9 removes while ≤ 0.1: token 3 only.
    expectClose(samplingDistribution(LOGITS, { topP: 0.9 }), [...softmax([2, 1, 0]), 0]);
    // A tiny p keeps the top token.
    expectClose(samplingDistribution(LOGITS, { topP: 0.01 }), [1, 0, 0, 0]);
  });

  it('min-p drops tokens below min_p × the top probability', () => {
    // threshold 0.2 × 0.6439 = 0.129: tokens 2 (0.087) and 3 (0.032) go.
    expectClose(samplingDistribution(LOGITS, { minP: 0.2 }), [...softmax([2, 1]), 0, 0]);
    // threshold 0.1 × 0.6439 = 0.064: only token 3 goes.
    expectClose(samplingDistribution(LOGITS, { minP: 0.1 }), [...softmax([2, 1, 0]), 0]);
  });

  it('the repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
    // Tokens 0 and 3 were seen (0 twice): 2 / 2 = 1 and −1 × 2 = −2.
    expectClose(samplingDistribution(LOGITS, { repetitionPenalty: 2 }, [0, 3, 0]), softmax([1, 1, 0, -2]));
    // It applies before greedy's argmax, as in HF.
    expectClose(samplingDistribution([2, 1.9, 0], { temperature: 0, repetitionPenalty: 2 }, [0]), [0, 1, 0]);
  });

  it('applies temperature, then top-k, then top-p, then min-p', () => {
    // T = 0.5 sharpens to softmax(4, 2, 0, −2) = 0.867, 0.117, 0.016, 0.002; top-k 3 drops token 3;
    // then top-p 0.9 over softmax(4, 2, 0) (0.867, 0.117, 0.016) drops token 2 (cumulative 0.016 ≤ 0.1).
    expectClose(samplingDistribution(LOGITS, { temperature: 0.5, topK: 3, topP: 0.9 }), [...softmax([4, 2]), 0, 0]);
  });
});

describe('drawToken and Random', () => {
  it('draws tokens with the distribution’s frequencies, reproducibly from a seed', () => {
    const probabilities = Float64Array.from([0.5, 0.3, 0.2, 0]);
    const counts = [0, 0, 0, 0];
    const random = new Random(7);
    const draws = Array.from({ length: 20_000 }, () => drawToken(probabilities, random));
    for (const token of draws) counts[token] = (counts[token] ?? 0) + 1;
    expect(counts[3]).toBe(0);
    [0.5, 0.3, 0.2].forEach((probability, token) => expect((counts[token] ?? 0) / 20_000).toBeCloseTo(probability, 1));
    const again = new Random(7);
    expect(Array.from({ length: 50 }, () => drawToken(probabilities, again))).toEqual(draws.slice(0, 50));
  });

  it('continues exactly from a saved state, and permutes without repeats', () => {
    const random = new Random(42, 3);
    random.permutation(10);
    const state = random.getState();
    const expected = [random.nextUint32(), random.nextUint32(), random.nextFloat()];
    const restored = Random.fromState(state);
    expect([restored.nextUint32(), restored.nextUint32(), restored.nextFloat()]).toEqual(expected);
    const order = new Random(1).permutation(100);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(order).not.toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(new Random(1).permutation(100)).toEqual(order);
    expect(new Random(2).permutation(100)).not.toEqual(order);
  });
});

describe('generate (token ids, the tiny Llama fixture)', () => {
  let model: CausalLanguageModel;
  beforeAll(async () => {
    model = await loadHfModel(TINY_LLAMA, { trainable: false });
  });

  const prompts = [
    [1, 5, 9, 3, 7, 11, 4],
    [1, 20],
    [1, 8, 8, 2, 30],
  ];

  it('batched prompts of different lengths give what each prompt gives alone (greedy)', async () => {
    const batched = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 12, eosTokenIds: [] });
    for (const [row, prompt] of prompts.entries()) {
      const [alone] = await generate(model, null, [prompt], { temperature: 0, maxNewTokens: 12, eosTokenIds: [] });
      expect(batched[row]?.tokens).toEqual(alone?.tokens);
      expect(batched[row]?.tokens).toHaveLength(12);
      expect(batched[row]?.finishReason).toBe('length');
      expect(batched[row]?.promptIds).toEqual(prompt);
    }
  });

  it('is reproducible from a seed, and a row does not depend on the other prompts', async () => {
    const options = { temperature: 1, topP: 0.95, maxNewTokens: 16, seed: 123, eosTokenIds: [] };
    const first = await generate(model, null, prompts, options);
    const second = await generate(model, null, prompts, options);
    expect(second.map((row) => row.tokens)).toEqual(first.map((row) => row.tokens));
    const otherSeed = await generate(model, null, prompts, { ...options, seed: 124 });
    expect(otherSeed.map((row) => row.tokens)).not.toEqual(first.map((row) => row.tokens));
    const [alone] = await generate(model, null, [prompts[0] as number[]], options);
    expect(alone?.tokens).toEqual(first[0]?.tokens);
  });

  it('plain sampling (no filters) draws the tokens of the general path (top-k of the whole vocabulary)', async () => {
    for (const temperature of [1, 0.7]) {
      const options = { temperature, maxNewTokens: 16, seed: 9, eosTokenIds: [] };
      const plain = await generate(model, null, prompts, options);
      const general = await generate(model, null, prompts, { ...options, topK: model.config.vocabSize });
      expect(plain).toEqual(general);
    }
  });

  it('stops a row at an EOS token (kept in its tokens) while the others go on', async () => {
    const free = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 8, eosTokenIds: [] });
    const eos = free[1]?.tokens[2] as number;
    const stopped = await generate(model, null, prompts, { temperature: 0, maxNewTokens: 8, eosTokenIds: [eos] });
    const row = stopped[1];
    expect(row?.finishReason).toBe('eos');
    expect(row?.tokens).toEqual(free[1]?.tokens.slice(0, (free[1]?.tokens.indexOf(eos) ?? 0) + 1));
    for (const index of [0, 2]) {
      const tokens = free[index]?.tokens ?? [];
      const expected = tokens.includes(eos) ? tokens.slice(0, tokens.indexOf(eos) + 1) : tokens;
      expect(stopped[index]?.tokens).toEqual(expected);
    }
  });

  it('stops at the context length, and refuses ids outside the vocabulary and over-long prompts', async () => {
    const long = Array.from({ length: 60 }, (_, index) => (index % 30) + 1);
    const [row] = await generate(model, null, [long], { temperature: 0, maxNewTokens: 10, eosTokenIds: [] });
    expect(row?.tokens).toHaveLength(4);
    expect(row?.finishReason).toBe('length');
    const failure = (run: () => Promise<unknown>) =>
      run().then(
        () => null,
        (error: unknown) => error,
      );
    const outside = await failure(() => generate(model, null, [[1, 32]], {}));
    expect(outside).toBeInstanceOf(AppFailure);
    expect((outside as AppFailure).code).toBe('model_input_invalid');
    expect((outside as AppFailure).message).toMatch(/token id 32/);
    expect(((await failure(() => generate(model, null, [[1, -1]], {}))) as AppFailure).code).toBe(
      'model_input_invalid',
    );
    expect(((await failure(() => generate(model, null, [[]], {}))) as AppFailure).code).toBe('model_input_invalid');
    const tooLong = Array.from({ length: 65 }, () => 1);
    expect(((await failure(() => generate(model, null, [tooLong], {}))) as AppFailure).code).toBe(
      'model_input_invalid',
    );
    expect(((await failure(() => generate(model, null, ['text'], {}))) as AppFailure).code).toBe('model_input_invalid');
    expect(((await failure(() => generate(model, null, [[1]], { topP: 0 }))) as AppFailure).code).toBe(
      'model_input_invalid',
    );
  });

  it('frees every tensor it makes', async () => {
    await generate(model, null, prompts, { maxNewTokens: 4, seed: 1, eosTokenIds: [] });
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      await generate(model, null, prompts, { maxNewTokens: 6, seed: round, eosTokenIds: [] });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('generate (text, a BPE tokenizer and a fresh model)', () => {
  let tokenizer: Tokenizer;
  let model: CausalLanguageModel;
  beforeAll(() => {
    tokenizer = trainByteLevelBpe(
      ['the cat sat on the mat and the dog sat on the log', 'a café in 東京 😀 sells tea and cake'],
      { vocabSize: 300, minFrequency: 1 },
    );
    model = createModel(
      llamaConfig({
        vocabSize: tokenizer.vocabSize,
        hiddenSize: 32,
        intermediateSize: 48,
        numHiddenLayers: 2,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        maxPositionEmbeddings: 128,
        tieWordEmbeddings: true,
      }),
      { seed: 3 },
    );
  });

  it('streams text deltas that concatenate to each row’s final text', async () => {
    const deltas = ['', ''];
    const results = await generate(model, tokenizer, ['the cat', 'a café in'], {
      temperature: 1,
      seed: 5,
      maxNewTokens: 30,
      eosTokenIds: [],
      onToken: (row, _token, delta) => (deltas[row] += delta),
    });
    results.forEach((result, row) => {
      expect(result.text.length).toBeGreaterThan(0);
      expect(deltas[row]).toBe(result.text);
      expect(result.text).toBe(tokenizer.decode(result.tokens, { skipSpecialTokens: true }));
    });
  });

  it('ends at a stop string, cuts the text before it, and never streams any of it', async () => {
    const [free] = await generate(model, tokenizer, ['the dog'], { temperature: 0, maxNewTokens: 40, eosTokenIds: [] });
    const text = free?.text ?? '';
    expect(text.length).toBeGreaterThan(8);
    const stop = text.slice(5, 8);
    let streamed = '';
    const [stopped] = await generate(model, tokenizer, ['the dog'], {
      temperature: 0,
      maxNewTokens: 40,
      eosTokenIds: [],
      stopStrings: [stop],
      onToken: (_row, _token, delta) => (streamed += delta),
    });
    expect(stopped?.finishReason).toBe('stop');
    expect(stopped?.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(streamed).toBe(stopped?.text);
    expect(stopped?.tokens.length).toBeLessThan(free?.tokens.length ?? 0);
  });
});

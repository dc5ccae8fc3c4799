import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { loadHfModel } from '../../../src-main/engine/model/model.js';
import { BACKENDS, TINY_GPT2, TINY_LLAMA, TINY_QWEN3, maxAbsDifference, take, useBackend } from './helpers.js';

/** The bar: every logit within 1e-4 of the transformers reference. */
const TOLERANCE = 1e-4;

interface FerrlGolden {
  cases: Record<string, { input_ids: number[][]; logits: number[]; shape: number[] }>;
}

interface Gpt2Golden {
  input_ids: number[];
  logits: number[];
  logits_shape: number[];
  hidden_after_embed: number[];
  hidden_after_block0: number[];
  hidden_after_lnf: number[];
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T;

/** Worst differences seen, printed at the end so a run documents the parity figures. */
const figures: string[] = [];
afterAll(() => console.log(`parity (max |logit − golden|):\n${figures.join('\n')}`));

describe.each(BACKENDS)('parity with transformers on the %s backend', (backend) => {
  for (const [label, folder] of [
    ['tiny Llama (GQA, llama3 RoPE scaling, tied)', TINY_LLAMA],
    ['tiny Qwen3 (GQA, q/k norm, head_dim ≠ hidden / heads, tied)', TINY_QWEN3],
  ] as const) {
    it(`${label} reproduces the golden logits within ${TOLERANCE}`, async () => {
      await useBackend(backend);
      const golden = await readJson<FerrlGolden>(path.join(folder, 'golden.json'));
      const model = await loadHfModel(folder);
      try {
        for (const [name, example] of Object.entries(golden.cases)) {
          const ids = tf.tensor2d(example.input_ids, undefined, 'int32');
          const { logits } = model.forward(ids);
          ids.dispose();
          expect(logits.shape).toEqual(example.shape);
          const difference = maxAbsDifference(take(logits), example.logits);
          figures.push(`  ${backend} ${path.basename(folder)} ${name}: ${difference.toExponential(2)}`);
          expect(difference).toBeLessThan(TOLERANCE);
        }
      } finally {
        model.dispose();
      }
    });
  }

  it(`tiny GPT-2 reproduces the golden logits and hidden states within ${TOLERANCE}`, async () => {
    await useBackend(backend);
    const golden = await readJson<Gpt2Golden>(path.join(TINY_GPT2, 'gpt2_tiny_golden.json'));
    const model = await loadHfModel(TINY_GPT2);
    try {
      const ids = tf.tensor2d([golden.input_ids], undefined, 'int32');
      const { logits, hiddenStates } = model.forward(ids, { outputHiddenStates: true });
      ids.dispose();
      expect(logits.shape).toEqual([1, ...golden.logits_shape]);
      expect(hiddenStates).toHaveLength(3);
      const [embedded, afterBlock0, final] = hiddenStates ?? [];
      const checks = {
        logits: maxAbsDifference(take(logits), golden.logits),
        hidden_after_embed: maxAbsDifference(take(embedded as tf.Tensor), golden.hidden_after_embed),
        hidden_after_block0: maxAbsDifference(take(afterBlock0 as tf.Tensor), golden.hidden_after_block0),
        hidden_after_lnf: maxAbsDifference(take(final as tf.Tensor), golden.hidden_after_lnf),
      };
      for (const [name, difference] of Object.entries(checks)) {
        figures.push(`  ${backend} loractl-tiny-gpt2 ${name}: ${difference.toExponential(2)}`);
        expect(difference, name).toBeLessThan(TOLERANCE);
      }
    } finally {
      model.dispose();
    }
  });
});

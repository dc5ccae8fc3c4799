import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor3D } from '@tensorflow/tfjs';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { modelEmbeddings } from '../../../src-main/engine/eval/embeddings.js';
import { RewardModel, loadRewardModel } from '../../../src-main/engine/eval/reward-model.js';
import { createModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import { useBackend } from '../model/helpers.js';
import { removeTempFolders, tempFolder } from '../train/helpers.js';
import { WORDS, prompt, tinyLlama, toyTokenizer, writeSequenceClassificationFolder } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await removeTempFolders();
});

/** HF's computation written out: the final hidden state of the last token, times score.weightᵀ. */
function directReward(causal: CausalLanguageModel, ids: number[], score: Float32Array): number {
  return tf.tidy(() => {
    const { hiddenStates } = causal.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), { outputHiddenStates: true });
    const states = hiddenStates as Tensor3D[];
    const last = (states[states.length - 1] as Tensor3D).slice([0, ids.length - 1, 0], [1, 1, -1]).reshape([-1]);
    return last.mul(tf.tensor1d(score)).sum().dataSync()[0] as number;
  });
}

describe('HF sequence-classification reward models', () => {
  const tokenizer = toyTokenizer();

  it('loads LlamaForSequenceClassification and scores the last real token, as a direct computation does', async () => {
    const folder = await tempFolder('drift-eval-rm-');
    // Untied: the causal model has an lm_head that the classifier's file does not hold.
    const config = tinyLlama(tokenizer.vocabSize, { layers: 2, tie: false });
    const { causal, score } = await writeSequenceClassificationFolder(folder, config, tokenizer);
    const model = await loadRewardModel(folder, { batchSize: 4 });
    try {
      const prompts = [prompt('apple'), prompt('river'), prompt('stone')];
      const responses = ['apple is great, thank you!', 'no.', 'stone is awful, go away. stone is awful.'];
      const rewards = await model.scoreResponses(prompts, responses);
      expect(rewards).toHaveLength(3);
      responses.forEach((response, index) => {
        const ids = model.encode(prompts[index] ?? [], response);
        expect(rewards[index]).toBeCloseTo(directReward(causal, ids, score), 4);
      });
      // Padding does not change a reward: one at a time equals the padded batch.
      const alone = await model.scoreResponses([prompts[1] ?? []], [responses[1] ?? '']);
      expect(alone[0]).toBeCloseTo(rewards[1] as number, 4);
      // The encoded conversation is the chat template with the response as the last assistant turn.
      const text = tokenizer.decode(model.encode(prompt('apple'), 'hi'));
      expect(text).toBe('<|im_start|>user\nTell me about apple.<|im_end|>\n<|im_start|>assistant\nhi<|im_end|>\n');
    } finally {
      model.dispose();
      causal.dispose();
    }
  });

  it('leaves no tensor behind in a scoring loop', async () => {
    const folder = await tempFolder('drift-eval-rm-');
    const { causal } = await writeSequenceClassificationFolder(folder, tinyLlama(tokenizer.vocabSize), tokenizer);
    causal.dispose();
    const model = await loadRewardModel(folder, { batchSize: 3 });
    try {
      const reward = model.rewardFunction();
      const prompts = WORDS.map(prompt);
      const responses = WORDS.map((word) => `${word} is great`);
      await reward(prompts, responses);
      const before = tf.memory().numTensors;
      for (let round = 0; round < 3; round++) await reward(prompts, responses);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('refuses folders that are not one-label reward models', async () => {
    const config = tinyLlama(tokenizer.vocabSize);
    const noScore = await tempFolder('drift-eval-rm-');
    (await writeSequenceClassificationFolder(noScore, config, tokenizer, { omitScore: true })).causal.dispose();
    await expect(loadRewardModel(noScore)).rejects.toMatchObject({ code: 'model_weights_mismatch' });
    const twoLabels = await tempFolder('drift-eval-rm-');
    (await writeSequenceClassificationFolder(twoLabels, config, tokenizer, { labels: 2 })).causal.dispose();
    await expect(loadRewardModel(twoLabels)).rejects.toMatchObject({ code: 'model_unsupported_architecture' });
    const causalFolder = await tempFolder('drift-eval-rm-');
    (await writeSequenceClassificationFolder(causalFolder, config, tokenizer)).causal.dispose();
    const { readFile, writeFile } = await import('node:fs/promises');
    const configFile = `${causalFolder}/config.json`;
    const json = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...json, architectures: ['LlamaForCausalLM'] }));
    await expect(loadRewardModel(causalFolder)).rejects.toMatchObject({ code: 'model_unsupported_architecture' });
  });

  it('saves a workbench reward model as an HF classifier that loads back with the same rewards', async () => {
    const folder = await tempFolder('drift-eval-rm-');
    const model = RewardModel.create(createModel(tinyLlama(tokenizer.vocabSize), { seed: 3 }), tokenizer, { seed: 4 });
    const loadedFolder = `${folder}/reward`;
    try {
      await model.save(loadedFolder);
      const { readFile } = await import('node:fs/promises');
      const config = JSON.parse(await readFile(`${loadedFolder}/config.json`, 'utf8')) as Record<string, unknown>;
      expect(config.architectures).toEqual(['LlamaForSequenceClassification']);
      const loaded = await loadRewardModel(loadedFolder);
      try {
        const prompts = [prompt('apple'), prompt('tiger')];
        const responses = ['apple is great', 'tiger is awful, go away.'];
        const original = await model.scoreResponses(prompts, responses);
        const reloaded = await loaded.scoreResponses(prompts, responses);
        reloaded.forEach((value, index) => expect(value).toBeCloseTo(original[index] as number, 5));
      } finally {
        loaded.dispose();
      }
      await expect(model.save(loadedFolder)).rejects.toMatchObject({ code: 'model_folder_exists' });
    } finally {
      model.dispose();
    }
  });
});

describe('model embeddings', () => {
  it('mean-pools the last hidden state per text, unaffected by padding, without leaking tensors', async () => {
    const tokenizer = toyTokenizer();
    const model = createModel(tinyLlama(tokenizer.vocabSize), { seed: 2 });
    try {
      const texts = ['apple', 'river is great, thank you!', ''];
      // The first forward caches the tied head's transpose (the model's own tensor); measure after it.
      await modelEmbeddings(model, tokenizer, ['warm up']);
      const before = tf.memory().numTensors;
      const batched = await modelEmbeddings(model, tokenizer, texts, { batchSize: 3 });
      const single = await modelEmbeddings(model, tokenizer, texts, { batchSize: 1 });
      expect(tf.memory().numTensors).toBe(before);
      expect(batched).toHaveLength(3);
      batched.forEach((vector, row) => {
        expect(vector).toHaveLength(32);
        vector.forEach((value, index) => expect(value).toBeCloseTo((single[row] as number[])[index] as number, 4));
      });
      // The mean over the tokens of a one-token text is that token's final hidden state.
      const ids = tokenizer.encode('apple', { addSpecialTokens: false });
      const expected = tf.tidy(() => {
        const { hiddenStates } = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), {
          outputHiddenStates: true,
        });
        const states = hiddenStates as Tensor3D[];
        return Array.from((states[states.length - 1] as Tensor3D).mean(1).dataSync());
      });
      expected.forEach((value, index) => expect(batched[0]?.[index]).toBeCloseTo(value, 4));
    } finally {
      model.dispose();
    }
  });
});

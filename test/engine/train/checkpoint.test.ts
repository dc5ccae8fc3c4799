import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import {
  LATEST_FILE,
  cleanStaleStaging,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  stepFolderName,
} from '../../../src-main/engine/train/checkpoint.js';
import { createGradientExecutor } from '../../../src-main/engine/train/parallel.js';
import type { SftHyperparameters } from '../../../src-main/engine/train/sft.js';
import { SftTrainer, TrainerStateSchema, resolveHyperparameters } from '../../../src-main/engine/train/sft.js';
import { useBackend } from '../model/helpers.js';
import type { TinySetup } from './helpers.js';
import { removeTempFolders, tempFolder, tinyConfig, tinySetup, weightsOf } from './helpers.js';

let setup: TinySetup;
beforeAll(async () => {
  await useBackend('wasm');
  setup = tinySetup(10);
});
afterAll(removeTempFolders);

const HYPERPARAMETERS: Partial<SftHyperparameters> = {
  learningRate: 5e-3,
  batchSize: 3,
  gradientAccumulation: 1,
  epochs: 3,
  warmupSteps: 2,
  schedule: 'cosine',
  seed: 17,
  shards: 2,
};

/** Saves the trainer's state as a checkpoint of its current step. */
async function checkpoint(
  folder: string,
  trainer: SftTrainer,
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  keep = 3,
): Promise<string> {
  const { trainer: state, optimizer } = await trainer.save();
  return saveCheckpoint(
    folder,
    { step: state.step, model, tokenizer, optimizer, trainerState: { trainer: state } },
    { keep },
  );
}

async function freshTrainer(model: CausalLanguageModel) {
  const executor = await createGradientExecutor(model, { threads: 1 });
  const trainer = new SftTrainer(model, setup.examples, resolveHyperparameters(HYPERPARAMETERS), executor);
  return {
    trainer,
    close: async () => {
      trainer.dispose();
      await executor.close();
    },
  };
}

describe('checkpoints', () => {
  it('resume from step k gives a bit-identical step k + 1 (loss and every weight)', async () => {
    const folder = await tempFolder();
    // Uninterrupted: 4 steps (an epoch boundary falls inside: 10 examples, batches of 3), checkpoint after 2… and after 4.
    const model = setup.model(4);
    const run = await freshTrainer(model);
    await run.trainer.trainStep();
    await run.trainer.trainStep();
    await checkpoint(folder, run.trainer, model, setup.tokenizer);
    await run.trainer.trainStep();
    await run.trainer.trainStep();
    const fifth = await run.trainer.trainStep();
    const expected = weightsOf(model);
    await run.close();
    model.dispose();

    // Resumed: a fresh process would read the checkpoint folder; so does this.
    const { checkpoint: found } = await findLatestCheckpoint(folder);
    expect(found?.step).toBe(2);
    const loaded = await loadCheckpoint(found!, setup.config);
    expect(loaded.tokenizer?.vocabSize).toBe(setup.tokenizer.vocabSize);
    const resumed = await freshTrainer(loaded.model);
    resumed.trainer.restore(
      TrainerStateSchema.parse((loaded.trainerState as { trainer: unknown }).trainer),
      loaded.optimizer,
    );
    expect(resumed.trainer.step).toBe(2);
    await resumed.trainer.trainStep();
    await resumed.trainer.trainStep();
    const fifthAgain = await resumed.trainer.trainStep();
    expect(fifthAgain.loss).toBe(fifth.loss);
    expect(fifthAgain.learningRate).toBe(fifth.learningRate);
    expect(fifthAgain.gradNorm).toBe(fifth.gradNorm);
    for (const [name, values] of weightsOf(loaded.model)) expect(values, name).toEqual(expected.get(name));
    await resumed.close();
    loaded.model.dispose();
  });

  it('writes a manifest last, points latest at the newest, and prunes to the newest K', async () => {
    const folder = await tempFolder();
    const model = setup.model(1);
    const run = await freshTrainer(model);
    for (let step = 0; step < 4; step++) {
      await run.trainer.trainStep();
      await checkpoint(folder, run.trainer, model, setup.tokenizer, 2);
    }
    expect((await readdir(folder)).sort()).toEqual([LATEST_FILE, stepFolderName(3), stepFolderName(4)]);
    expect((await readFile(path.join(folder, LATEST_FILE), 'utf8')).trim()).toBe(stepFolderName(4));
    const files = (await readdir(path.join(folder, stepFolderName(4)))).sort();
    expect(files).toEqual([
      'config.json',
      'manifest.json',
      'model.safetensors',
      'optimizer.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'trainer_state.json',
    ]);
    const manifest = JSON.parse(await readFile(path.join(folder, stepFolderName(4), 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual(files.filter((file) => file !== 'manifest.json'));
    await run.close();
    model.dispose();
  });

  it('ignores and cleans a staging folder an interrupted save left behind', async () => {
    const folder = await tempFolder();
    const model = setup.model(1);
    const run = await freshTrainer(model);
    await run.trainer.trainStep();
    await checkpoint(folder, run.trainer, model, setup.tokenizer);
    // A crash mid-save of step 9: a staging folder with a half-written weights file and no manifest.
    const staging = path.join(folder, `.staging-${stepFolderName(9)}-deadbeef`);
    await mkdir(staging);
    await writeFile(path.join(staging, 'model.safetensors'), 'half');
    const search = await findLatestCheckpoint(folder);
    expect(search.checkpoint?.step).toBe(1);
    expect(search.skipped).toEqual([]);
    expect(await cleanStaleStaging(folder)).toEqual([path.basename(staging)]);
    expect(await readdir(folder)).not.toContain(path.basename(staging));
    await run.close();
    model.dispose();
  });

  it('falls back to the previous checkpoint when the newest fails its checksum, or latest names a missing one', async () => {
    const folder = await tempFolder();
    const model = setup.model(1);
    const run = await freshTrainer(model);
    await run.trainer.trainStep();
    await checkpoint(folder, run.trainer, model, setup.tokenizer);
    await run.trainer.trainStep();
    await checkpoint(folder, run.trainer, model, setup.tokenizer);
    const weights = path.join(folder, stepFolderName(2), 'model.safetensors');
    const bytes = await readFile(weights);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    await writeFile(weights, bytes);
    const search = await findLatestCheckpoint(folder);
    expect(search.checkpoint?.step).toBe(1);
    expect(search.skipped).toHaveLength(1);
    expect(search.skipped[0]?.reason).toMatch(/model\.safetensors does not match its sha256/);

    await writeFile(path.join(folder, LATEST_FILE), `${stepFolderName(7)}\n`);
    expect((await findLatestCheckpoint(folder)).checkpoint?.step).toBe(1);
    await run.close();
    model.dispose();
  });

  it('refuses to resume into a different architecture', async () => {
    const folder = await tempFolder();
    const model = setup.model(1);
    const run = await freshTrainer(model);
    await run.trainer.trainStep();
    await checkpoint(folder, run.trainer, model, setup.tokenizer);
    const { checkpoint: found } = await findLatestCheckpoint(folder);
    const failure = await loadCheckpoint(found!, tinyConfig(setup.tokenizer.vocabSize, 3)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AppFailure);
    expect((failure as AppFailure).code).toBe('checkpoint_config_mismatch');
    expect((failure as AppFailure).message).toMatch(/numHiddenLayers 2 \(run: 3\)/);
    await run.close();
    model.dispose();
  });
});

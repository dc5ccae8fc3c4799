/**
 * A model's copy in another thread (the gradient workers of train/parallel.ts, the generation
 * workers of generation-pool.ts): made from the config on the same backend, and kept in step by
 * sending the weights as float32 arrays in parameter order.
 */
import type { BackendName } from '../../api/index.js';
import { selectBackend } from '../backend.js';
import { tf } from '../compute/tf.js';
import type { ModelConfig } from './config.js';
import { createModel } from './model.js';
import type { CausalLanguageModel } from './modeling_utils.js';

/** The model's weights in parameter order (what {@link assignWeights} takes). */
export async function readWeights(model: CausalLanguageModel): Promise<Float32Array[]> {
  return (await Promise.all([...model.parameters().values()].map((variable) => variable.data()))) as Float32Array[];
}

/** Replaces the model's weights with `weights` (parameter order, as {@link readWeights} gives them). */
export function assignWeights(model: CausalLanguageModel, weights: readonly Float32Array[]): void {
  const variables = [...model.parameters().values()];
  if (weights.length !== variables.length)
    throw new Error(`${weights.length} weights for ${variables.length} parameters`);
  tf.tidy(() => {
    variables.forEach((variable, index) => {
      variable.assign(tf.tensor(weights[index] as Float32Array, variable.shape, 'float32'));
    });
  });
}

/** A fresh model of `config` on `backend` (the calling thread's backend, selected in this one). */
export async function createReplica(backend: string, config: ModelConfig): Promise<CausalLanguageModel> {
  await selectBackend(backend as BackendName);
  if (tf.getBackend() !== backend) {
    throw new Error(`backend ${backend} is not available in the worker (got ${tf.getBackend()})`);
  }
  return createModel(config);
}

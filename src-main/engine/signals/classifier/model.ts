/**
 * A multi-label logistic regression over hashed features: one sigmoid output for SAT, one for
 * DSAT and one per rubric category, trained with tfjs (real gradients, Adam, L2), seeded.
 *
 * Shapes: W [buckets, outputs], b [outputs]. A batch of B examples is a dense X [B, buckets] of
 * feature values; logits [B, outputs] = X·W + b. Outputs whose target is unknown (mask 0) add no
 * loss.
 * Inference runs in plain JS on the Float32Array weights, so a saved and reloaded classifier
 * predicts bit for bit what the trained one did, on any backend.
 */
import { tf } from '../../compute/tf.js';
import type { FeatureVector } from './features.js';
import { mulberry32 as seededRandom } from '../../compute/mulberry32.js';

export { seededRandom };

import { OUTPUT_COUNT } from './outputs.js';

export { CATEGORY_OFFSET, DSAT_OUTPUT, OUTPUT_COUNT, OUTPUTS, SAT_OUTPUT } from './outputs.js';

export interface Example {
  features: FeatureVector;
  /** 0/1 per output. */
  targets: Float32Array;
  /** 1 where the target is known. */
  mask: Float32Array;
  /** Examples of one group (a conversation) go to the same side of the held-out split. */
  group: string;
}

export interface ClassifierWeights {
  buckets: number;
  /** Row-major [buckets, OUTPUT_COUNT]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface TrainOptions {
  buckets: number;
  epochs: number;
  learningRate: number;
  l2: number;
  batchSize: number;
  seed: number;
  /** Called after each epoch with the mean loss; may throw to cancel. */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

function shuffle(order: number[], random: () => number): void {
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other]!, order[index]!];
  }
}

/** Trains from zero weights; returns the weights and the last epoch's mean loss. */
export async function trainClassifier(
  examples: readonly Example[],
  options: TrainOptions,
): Promise<{ weights: ClassifierWeights; finalLoss: number }> {
  const { buckets, batchSize } = options;
  // Zero initial weights: the loss is convex, and zeros make runs reproducible.
  const [weights, bias] = tf.tidy(() => [
    tf.variable(tf.zeros([buckets, OUTPUT_COUNT])), // [F, K]
    tf.variable(tf.zeros([OUTPUT_COUNT])), // [K]
  ]);
  const optimizer = tf.train.adam(options.learningRate);
  const random = seededRandom(options.seed);
  const order = examples.map((_, index) => index);
  let finalLoss = Number.NaN;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      shuffle(order, random);
      let lossSum = 0;
      let batches = 0;
      for (let from = 0; from < order.length; from += batchSize) {
        const batch = order.slice(from, from + batchSize).map((index) => examples[index]!);
        const rows = batch.length;
        // Dense rows of the hashed features: a matMul's gradient is dense and fast on every backend,
        // whereas the gradient of `gather` needs UnsortedSegmentSum, which tfjs's cpu backend runs
        // as one mask per bucket (O(buckets × features) per step).
        const inputData = new Float32Array(rows * buckets);
        const targetData = new Float32Array(rows * OUTPUT_COUNT);
        const maskData = new Float32Array(rows * OUTPUT_COUNT);
        batch.forEach((example, row) => {
          const { indices, values } = example.features;
          for (let position = 0; position < indices.length; position++) {
            inputData[row * buckets + (indices[position] ?? 0)]! += values[position] ?? 0;
          }
          targetData.set(example.targets, row * OUTPUT_COUNT);
          maskData.set(example.mask, row * OUTPUT_COUNT);
        });
        const inputs = tf.tensor2d(inputData, [rows, buckets]); // [B, F]
        const targets = tf.tensor2d(targetData, [rows, OUTPUT_COUNT]); // [B, K]
        const mask = tf.tensor2d(maskData, [rows, OUTPUT_COUNT]); // [B, K]
        const known = Math.max(
          1,
          maskData.reduce((sum, value) => sum + value, 0),
        );
        const cost = optimizer.minimize(() => {
          const logits = inputs.matMul(weights).add(bias); // [B, K]
          // Numerically stable binary cross-entropy with logits: max(x,0) − x·z + log(1 + e^−|x|).
          const losses = logits.relu().sub(logits.mul(targets)).add(logits.abs().neg().exp().log1p()); // [B, K]
          const data = losses.mul(mask).sum().div(known); // []
          const penalty = weights.square().sum().mul(options.l2); // []
          return data.add(penalty) as tf.Scalar;
        }, true);
        lossSum += cost ? (await cost.data())[0]! : 0;
        cost?.dispose();
        batches++;
        tf.dispose([inputs, targets, mask]);
      }
      finalLoss = batches === 0 ? 0 : lossSum / batches;
      await options.onEpoch?.(epoch, finalLoss);
    }
    return {
      weights: { buckets, weights: new Float32Array(await weights.data()), bias: new Float32Array(await bias.data()) },
      finalLoss,
    };
  } finally {
    optimizer.dispose();
    weights.dispose();
    bias.dispose();
  }
}

const sigmoid = (value: number) => 1 / (1 + Math.exp(-value));

/** Each output's logit for one example. */
export function logits(model: ClassifierWeights, features: FeatureVector): Float64Array {
  const result = Float64Array.from(model.bias);
  for (let position = 0; position < features.indices.length; position++) {
    const row = (features.indices[position] ?? 0) * OUTPUT_COUNT;
    const value = features.values[position] ?? 0;
    for (let output = 0; output < OUTPUT_COUNT; output++) {
      result[output] = (result[output] ?? 0) + value * (model.weights[row + output] ?? 0);
    }
  }
  return result;
}

/** Each output's probability for one example. */
export function predict(model: ClassifierWeights, features: FeatureVector): Float64Array {
  return logits(model, features).map(sigmoid);
}

/** Each feature's contribution to one output's logit, largest first. */
export function contributions(
  model: ClassifierWeights,
  features: FeatureVector,
  output: number,
): Array<{ position: number; value: number }> {
  const list: Array<{ position: number; value: number }> = [];
  for (let position = 0; position < features.indices.length; position++) {
    const row = (features.indices[position] ?? 0) * OUTPUT_COUNT;
    list.push({ position, value: (features.values[position] ?? 0) * (model.weights[row + output] ?? 0) });
  }
  return list.sort((a, b) => b.value - a.value);
}

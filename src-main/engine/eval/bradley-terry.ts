/**
 * Training a reward model on preference pairs with the Bradley–Terry loss (Bradley and Terry 1952;
 * InstructGPT, Ouyang et al. 2022, arXiv 2203.02155 §3.5; TRL's RewardTrainer):
 * loss = −log σ(r(x, y⁺) − r(x, y⁻)), averaged over a batch of pairs. A seeded split holds out pairs;
 * accuracy is the share of pairs whose chosen response gets the higher reward (a tie counts half).
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import { Random } from '../model/index.js';
import type { ChatMessage } from '../text/index.js';
import type { Optimizer } from '../compute/optimizers.js';
import { OPTIMIZER_DEFAULTS, clipByGlobalNorm, createOptimizer } from '../compute/optimizers.js';
import type { RewardModel } from './reward-model.js';

/** One preference: a conversation and two responses to it. */
export interface PreferencePair {
  prompt: ChatMessage[];
  chosen: string;
  rejected: string;
}

export interface BradleyTerryOptions {
  /** Passes over the training pairs. Default 3. */
  epochs?: number;
  /** Pairs per optimizer step. Default 8. */
  batchSize?: number;
  /** AdamW's learning rate (constant). Default 1e-4. */
  learningRate?: number;
  weightDecay?: number;
  /** Clip the gradient's global norm to this; 0 turns clipping off. Default 1. */
  maxGradNorm?: number;
  /** Share of the pairs held out for accuracy (at least one pair when there are ≥ 2). Default 0.2. */
  heldOutFraction?: number;
  /** Seeds the split and the order. Default 0. */
  seed?: number;
  /** Called after each step. */
  onStep?(step: BradleyTerryStep): void;
  /** Checked between steps. */
  signal?: AbortSignal;
}

export interface BradleyTerryStep {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Accuracy on the step's batch. */
  accuracy: number;
}

export interface BradleyTerryReport {
  trainPairs: number;
  heldOutPairs: number;
  steps: number;
  /** Mean loss of the last epoch's steps. */
  finalLoss: number;
  /** Accuracy on the training pairs after training. */
  trainAccuracy: number;
  /** Accuracy on the held-out pairs after training; null when none were held out. */
  heldOutAccuracy: number | null;
}

/** Encoded pair: the two token sequences. */
interface EncodedPair {
  chosen: number[];
  rejected: number[];
}

/**
 * Trains `model` (its backbone and head) on the pairs and reports held-out accuracy.
 * @throws AppFailure `training_data_invalid` (fewer than 2 pairs), `training_diverged`, the signal's reason
 */
export async function trainBradleyTerry(
  model: RewardModel,
  pairs: readonly PreferencePair[],
  options: BradleyTerryOptions = {},
): Promise<BradleyTerryReport> {
  if (pairs.length < 2) {
    throw new AppFailure('training_data_invalid', `A reward model needs at least 2 pairs; there are ${pairs.length}.`);
  }
  const epochs = options.epochs ?? 3;
  const batchSize = options.batchSize ?? 8;
  const learningRate = options.learningRate ?? 1e-4;
  const random = new Random(options.seed ?? 0);
  const order = random.permutation(pairs.length);
  const fraction = options.heldOutFraction ?? 0.2;
  const heldOutCount =
    fraction === 0 ? 0 : Math.min(pairs.length - 1, Math.max(1, Math.round(pairs.length * fraction)));
  const encode = (pair: PreferencePair): EncodedPair => ({
    chosen: model.encode(pair.prompt, pair.chosen),
    rejected: model.encode(pair.prompt, pair.rejected),
  });
  const heldOut = order.slice(0, heldOutCount).map((index) => encode(pairs[index] as PreferencePair));
  const training = order.slice(heldOutCount).map((index) => encode(pairs[index] as PreferencePair));

  const parameters = model.parameters();
  const optimizer = createOptimizer({ ...OPTIMIZER_DEFAULTS.adamw, weightDecay: options.weightDecay ?? 0 }, parameters);
  const variables = [...parameters.values()];
  const stepsPerEpoch = Math.ceil(training.length / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  let step = 0;
  let epochLosses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      epochLosses = [];
      const epochOrder = random.permutation(training.length);
      for (let start = 0; start < training.length; start += batchSize) {
        if (options.signal?.aborted) throw options.signal.reason ?? new AppFailure('job_cancelled');
        const batch = epochOrder.slice(start, start + batchSize).map((index) => training[index] as EncodedPair);
        const { loss, accuracy } = await trainStep(model, batch, variables, parameters, optimizer, {
          learningRate,
          maxGradNorm: options.maxGradNorm ?? 1,
        });
        if (!Number.isFinite(loss))
          throw new AppFailure('training_diverged', `The loss is ${loss} at step ${step + 1}.`);
        step++;
        epochLosses.push(loss);
        options.onStep?.({ step, totalSteps, epoch, loss, accuracy });
        // Yield a macrotask so a worker can take its cancel message.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    optimizer.dispose();
  }
  return {
    trainPairs: training.length,
    heldOutPairs: heldOut.length,
    steps: step,
    finalLoss: epochLosses.reduce((sum, value) => sum + value, 0) / Math.max(1, epochLosses.length),
    trainAccuracy: await pairAccuracy(model, training),
    heldOutAccuracy: heldOut.length > 0 ? await pairAccuracy(model, heldOut) : null,
  };
}

/** One AdamW step on a batch; returns its loss and accuracy. */
async function trainStep(
  model: RewardModel,
  batch: readonly EncodedPair[],
  variables: Variable[],
  parameters: ReadonlyMap<string, Variable>,
  optimizer: Optimizer,
  settings: { learningRate: number; maxGradNorm: number },
): Promise<{ loss: number; accuracy: number }> {
  const size = batch.length;
  const sequences = [...batch.map((pair) => pair.chosen), ...batch.map((pair) => pair.rejected)];
  let margins: Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const rewards = model.rewards(sequences); // (2B): chosen then rejected
    const margin = rewards.slice(0, size).sub(rewards.slice(size, size)); // (B) r⁺ − r⁻
    margins = tf.keep(margin.clone());
    return tf.softplus(margin.neg()).mean() as Scalar; // −log σ(margin)
  }, variables);
  const gradients = new Map<string, Tensor>();
  for (const [name, variable] of parameters) {
    const gradient = grads[variable.name];
    if (gradient !== undefined) gradients.set(name, gradient);
  }
  try {
    const clipped = await clipByGlobalNorm(gradients, settings.maxGradNorm);
    optimizer.apply(clipped.gradients, settings.learningRate);
    tf.dispose([...clipped.gradients.values()]);
    const loss = ((await value.data()) as Float32Array)[0] as number;
    const values = (await (margins as Tensor).data()) as Float32Array;
    return { loss, accuracy: accuracyOfMargins(values) };
  } finally {
    tf.dispose([value, ...gradients.values()]);
    margins?.dispose();
  }
}

function accuracyOfMargins(margins: ArrayLike<number>): number {
  let correct = 0;
  for (let index = 0; index < margins.length; index++) {
    const margin = margins[index] as number;
    correct += margin > 0 ? 1 : margin === 0 ? 0.5 : 0;
  }
  return margins.length === 0 ? 0 : correct / margins.length;
}

/** Share of pairs whose chosen response gets the higher reward (ties half). */
async function pairAccuracy(model: RewardModel, pairs: readonly EncodedPair[]): Promise<number> {
  const margins: number[] = [];
  for (let start = 0; start < pairs.length; start += model.batchSize) {
    const batch = pairs.slice(start, start + model.batchSize);
    const rewards = model.rewards([...batch.map((pair) => pair.chosen), ...batch.map((pair) => pair.rejected)]);
    const values = (await rewards.data()) as Float32Array;
    rewards.dispose();
    for (let index = 0; index < batch.length; index++) {
      margins.push((values[index] as number) - (values[batch.length + index] as number));
    }
  }
  return accuracyOfMargins(margins);
}

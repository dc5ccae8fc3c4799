/**
 * The preference-optimisation loop (TRL's DPOTrainer, reduced to what the workbench's runs need):
 * a seeded order of the pairs per epoch, micro-batches of 2B rows (chosen then rejected) through
 * one forward pass each, the preference loss against the frozen reference's log-probs (computed
 * once beforehand, TRL's `precompute_ref_log_probs`), RPO's NLL term, clipping by global norm,
 * one update of RMSprop or AdamW at the schedule's learning rate.
 *
 * The loss of a step is mean over its pairs of the preference loss + rpoAlpha · NLL(chosen), NLL
 * being the mean per-token cross-entropy of the chosen completions (TRL: `losses + rpo_alpha *
 * nll_loss`, with `nll_loss` the CrossEntropyLoss over the chosen half's completion tokens). The
 * means are taken over the whole step, not per micro-batch, so accumulation leaves the loss and its
 * gradient unchanged for the sigmoid and IPO losses; with gradientAccumulation 1 (the paper's
 * setting) this is exactly TRL's loss. KTO's KL baseline comes from each micro-batch.
 *
 * The trainer's state (step, epoch, cursor and the random state the epoch's order came from) is
 * plain JSON, so a checkpoint can store it and a resumed trainer takes exactly the step the
 * uninterrupted one would have taken next.
 */
import type { Scalar, Tensor, Tensor1D } from '@tensorflow/tfjs';
import { z } from 'zod';
import type { GradientWeightSummary, PreferenceHyperparameters, RunMetricRow } from '../../../api/index.js';
import { AppFailure } from '../../../api/index.js';
import { tf } from '../../compute/tf.js';
import type { CausalLanguageModel, RandomState } from '../../model/index.js';
import { Random } from '../../model/index.js';
import type { Optimizer, OptimizerConfig, OptimizerState } from '../../compute/optimizers.js';
import { OPTIMIZER_DEFAULTS, clipByGlobalNorm, createOptimizer } from '../../compute/optimizers.js';
import type { Schedule } from '../schedules.js';
import { learningRateAt } from '../schedules.js';
import type { PreferenceExample, PreferenceTokenBatch } from './data.js';
import { preferenceBatch } from './data.js';
import type { CompletionLogProbs } from './logprobs.js';
import { batchLogProbSums, completionLogProbs, throwIfCancelled } from './logprobs.js';
import type { PreferenceLossOptions } from './losses.js';
import { gradientWeights, preferenceLoss, summarizeGradientWeights } from './losses.js';

/** What a preference trainer's state is made of (a checkpoint's `trainer`). */
export const PreferenceTrainerStateSchema = z.object({
  /** Optimizer steps taken. */
  step: z.number().int().nonnegative(),
  /** The epoch being read (0-based). */
  epoch: z.number().int().nonnegative(),
  /** The next micro-batch of the epoch. */
  cursor: z.number().int().nonnegative(),
  /** The random state the current epoch's order was drawn from. */
  epochRandom: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** Pairs the trainer was built with (a resumed one must have as many). */
  pairs: z.number().int().nonnegative(),
});
export type PreferenceTrainerState = z.infer<typeof PreferenceTrainerStateSchema>;

/** One optimizer step's numbers: a metrics.jsonl row without type, iteration and time. */
export interface PreferenceStepMetrics extends Omit<RunMetricRow, 'type' | 'iteration' | 'time'> {
  grad_norm: number;
  learning_rate: number;
}

export interface PreferenceTrainerOptions {
  /** Passes over the pairs (0: no step at all). */
  epochs: number;
  /** Seeds the order of the pairs. */
  seed: number;
  padId: number;
}

/** Numbers of one micro-batch, read while its gradient is taken. */
interface PairRecord {
  /** log π as the loss saw them (per-token means for IPO), then the reference's the same way. */
  policyChosen: number[];
  policyRejected: number[];
  referenceChosen: number[];
  referenceRejected: number[];
  /** (log π − log π_ref) / tokens of every completion. */
  perTokenRatios: number[];
}

export class PreferenceTrainer {
  readonly optimizer: Optimizer;
  readonly totalSteps: number;
  readonly microBatchesPerEpoch: number;
  readonly warmupSteps: number;
  private readonly lossOptions: PreferenceLossOptions;
  private state: PreferenceTrainerState;
  private order: number[];

  /**
   * Takes ownership of nothing: the caller disposes the model. The optimizer's slots are the
   * trainer's (freed by {@link PreferenceTrainer.dispose}). `reference` holds the frozen
   * reference's log-probs of `examples`, in the same order.
   * @throws AppFailure `training_data_invalid` without pairs, or for a reference of other pairs
   */
  constructor(
    private readonly model: CausalLanguageModel,
    private readonly examples: readonly PreferenceExample[],
    private readonly reference: CompletionLogProbs,
    readonly hyperparameters: PreferenceHyperparameters,
    private readonly options: PreferenceTrainerOptions,
  ) {
    if (examples.length === 0)
      throw new AppFailure('training_data_invalid', 'There is no preference pair to train on.');
    checkReference(examples, reference);
    const { optimizer, weightDecay, batchSize, gradientAccumulation, warmupRatio } = hyperparameters;
    const config: OptimizerConfig = { ...OPTIMIZER_DEFAULTS[optimizer], weightDecay };
    this.optimizer = createOptimizer(config, model.parameters());
    this.lossOptions = lossOptionsOf(hyperparameters);
    this.microBatchesPerEpoch = Math.ceil(examples.length / batchSize);
    this.totalSteps = options.epochs * Math.ceil(this.microBatchesPerEpoch / gradientAccumulation);
    // HF TrainingArguments.get_warmup_steps: ceil(warmup_ratio × total steps).
    this.warmupSteps = Math.ceil(warmupRatio * this.totalSteps);
    const start = new Random(options.seed).getState();
    this.state = { step: 0, epoch: 0, cursor: 0, epochRandom: start, pairs: examples.length };
    this.order = epochOrder(start, examples.length);
  }

  get step(): number {
    return this.state.step;
  }

  get done(): boolean {
    return this.state.step >= this.totalSteps;
  }

  /** The schedule of this run (its state is the step). */
  get schedule(): Schedule {
    return {
      kind: this.hyperparameters.schedule,
      learningRate: this.hyperparameters.learningRate,
      warmupSteps: this.warmupSteps,
      totalSteps: this.totalSteps,
    };
  }

  /**
   * Takes one optimizer step over up to gradientAccumulation micro-batches (never crossing an
   * epoch's end). The signal is checked before each micro-batch and before the update, with a turn
   * of the event loop in between, so a cancellation lands within one micro-batch and leaves the
   * weights, the optimizer and the trainer's position as they were.
   * @throws AppFailure `job_cancelled` when `signal` aborts; `training_diverged` for a loss that is not finite
   */
  async trainStep(signal?: AbortSignal): Promise<PreferenceStepMetrics> {
    throwIfCancelled(signal);
    if (this.done) throw new Error(`The trainer has taken all its ${this.totalSteps} steps.`);
    const started = performance.now();
    const { batchSize, gradientAccumulation, maxGradNorm, rpoAlpha } = this.hyperparameters;

    // The position is committed only once the update is applied.
    let { epoch, cursor, epochRandom } = this.state;
    let order = this.order;
    if (cursor >= this.microBatchesPerEpoch) {
      const random = Random.fromState(epochRandom);
      random.permutation(this.examples.length);
      epoch++;
      cursor = 0;
      epochRandom = random.getState();
      order = epochOrder(epochRandom, this.examples.length);
    }
    const microBatches: number[][] = [];
    for (let micro = 0; micro < gradientAccumulation && cursor < this.microBatchesPerEpoch; micro++, cursor++) {
      microBatches.push(order.slice(cursor * batchSize, (cursor + 1) * batchSize));
    }
    const stepIndices = microBatches.flat();
    const stepPairs = stepIndices.length;
    const stepChosenTokens = stepIndices.reduce(
      (sum, index) => sum + (this.reference.chosenTokens[index] as number),
      0,
    );

    const variables = [...this.model.parameters().values()];
    const record: PairRecord = {
      policyChosen: [],
      policyRejected: [],
      referenceChosen: [],
      referenceRejected: [],
      perTokenRatios: [],
    };
    let sum: Map<string, Tensor> | undefined;
    let loss = 0;
    try {
      for (const [micro, indices] of microBatches.entries()) {
        if (micro > 0) {
          await nextTurn();
          throwIfCancelled(signal);
        }
        const batch = preferenceBatch(
          indices.map((index) => this.examples[index] as PreferenceExample),
          this.options.padId,
        );
        const { value, grads } = tf.variableGrads(
          () => this.microBatchLoss(batch, indices, { stepPairs, stepChosenTokens, rpoAlpha }, record),
          variables,
        );
        loss += (value.dataSync() as Float32Array)[0] as number;
        value.dispose();
        if (sum === undefined) {
          sum = new Map(Object.entries(grads));
          continue;
        }
        for (const [name, gradient] of Object.entries(grads)) {
          const previous = sum.get(name);
          sum.set(name, previous === undefined ? gradient : tf.add(previous, gradient));
          tf.dispose(previous === undefined ? [] : [previous, gradient]);
        }
      }
      await nextTurn();
      throwIfCancelled(signal);
      if (sum === undefined) throw new AppFailure('training_data_invalid', 'A training step found no pairs.');
      if (!Number.isFinite(loss)) {
        throw new AppFailure('training_diverged', `The loss is ${loss} at step ${this.state.step + 1}.`);
      }
      const clipped = await clipByGlobalNorm(sum, maxGradNorm);
      tf.dispose([...sum.values()]);
      sum = clipped.gradients;
      // variableGrads names gradients by variable name; the optimizer wants the model's names.
      const byParameter = new Map<string, Tensor>();
      for (const [name, variable] of this.model.parameters()) {
        const gradient = sum.get(variable.name);
        if (gradient !== undefined) byParameter.set(name, gradient);
      }
      const learningRate = learningRateAt(this.schedule, this.state.step);
      this.optimizer.apply(byParameter, learningRate);
      this.state = { ...this.state, step: this.state.step + 1, epoch, cursor, epochRandom };
      this.order = order;
      return {
        step: this.state.step,
        epoch: epoch + cursor / this.microBatchesPerEpoch,
        loss,
        ...pairMetrics(record, this.lossOptions.beta),
        grad_norm: clipped.norm,
        learning_rate: learningRate,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      if (sum !== undefined) tf.dispose([...sum.values()]);
    }
  }

  /** The trainer's state (JSON) and a copy of the optimizer's, for a checkpoint. */
  async save(): Promise<{ trainer: PreferenceTrainerState; optimizer: OptimizerState }> {
    return {
      trainer: { ...this.state, epochRandom: [...this.state.epochRandom] as RandomState },
      optimizer: await this.optimizer.save(),
    };
  }

  /**
   * Continues from a saved state (the model's weights are the caller's to restore).
   * @throws AppFailure `checkpoint_config_mismatch` for a state of other pairs or another optimizer;
   * `checkpoint_invalid` for an inconsistent one
   */
  restore(trainer: PreferenceTrainerState, optimizer: OptimizerState): void {
    if (trainer.pairs !== this.examples.length) {
      throw new AppFailure(
        'checkpoint_config_mismatch',
        `The checkpoint was trained on ${trainer.pairs} pairs; this trainer has ${this.examples.length}.`,
      );
    }
    if (optimizer.step !== trainer.step) {
      throw new AppFailure(
        'checkpoint_invalid',
        `The optimizer took ${optimizer.step} steps but the trainer state says ${trainer.step}.`,
      );
    }
    if (trainer.cursor > this.microBatchesPerEpoch || trainer.step > this.totalSteps) {
      throw new AppFailure('checkpoint_invalid', 'The trainer state does not fit this run’s batches.');
    }
    this.optimizer.restore(optimizer);
    this.state = { ...trainer, epochRandom: [...trainer.epochRandom] as RandomState };
    this.order = epochOrder(this.state.epochRandom, this.examples.length);
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  /** One micro-batch's share of the step's loss, recording its numbers (inside the gradient tape). */
  private microBatchLoss(
    batch: PreferenceTokenBatch,
    indices: readonly number[],
    step: { stepPairs: number; stepChosenTokens: number; rpoAlpha: number },
    record: PairRecord,
  ): Scalar {
    const pairs = indices.length;
    const sums = batchLogProbSums(this.model, batch); // (2B)
    const policySums = sums.dataSync() as Float32Array;
    const pick = (values: ArrayLike<number>) => indices.map((index) => values[index] as number);
    const reference = {
      chosen: pick(this.reference.chosen),
      rejected: pick(this.reference.rejected),
      chosenTokens: pick(this.reference.chosenTokens),
      rejectedTokens: pick(this.reference.rejectedTokens),
    };
    const policyChosenSums = sums.slice(0, pairs) as Tensor1D; // (B)
    const policyRejectedSums = sums.slice(pairs, pairs) as Tensor1D; // (B)
    const inputs = lossInputs(this.lossOptions.type, reference, policyChosenSums, policyRejectedSums);
    const { losses } = preferenceLoss(
      inputs.policyChosen,
      inputs.policyRejected,
      inputs.referenceChosen,
      inputs.referenceRejected,
      this.lossOptions,
    );
    record.policyChosen.push(...(inputs.policyChosen.dataSync() as Float32Array));
    record.policyRejected.push(...(inputs.policyRejected.dataSync() as Float32Array));
    record.referenceChosen.push(...inputs.referenceChosenValues);
    record.referenceRejected.push(...inputs.referenceRejectedValues);
    for (let row = 0; row < pairs; row++) {
      record.perTokenRatios.push(
        ((policySums[row] as number) - (reference.chosen[row] as number)) / (reference.chosenTokens[row] as number),
        ((policySums[pairs + row] as number) - (reference.rejected[row] as number)) /
          (reference.rejectedTokens[row] as number),
      );
    }
    const preference = losses.sum().div(step.stepPairs) as Scalar; // ()
    if (step.rpoAlpha === 0) return preference;
    // RPO: α · the chosen completions' summed cross-entropy over the step's chosen tokens.
    return preference.add(
      policyChosenSums
        .sum()
        .neg()
        .mul(step.rpoAlpha / step.stepChosenTokens),
    ) as Scalar; // ()
  }
}

/**
 * The preference metrics of a set of pairs with the current weights, no gradient: the step
 * metrics' names (means over the set, no grad_norm/learning_rate/step/epoch/seconds) and
 * 'gradientWeight/mean', 'gradientWeight/p10', 'gradientWeight/p50', 'gradientWeight/p90'. KTO's
 * KL baseline is taken per batch of `batchSize` pairs, as TRL's evaluation does.
 * @throws AppFailure `job_cancelled` when `signal` aborts (checked between batches)
 */
export function evaluatePreference(
  model: CausalLanguageModel,
  examples: readonly PreferenceExample[],
  reference: CompletionLogProbs,
  options: PreferenceLossOptions & { rpoAlpha: number; batchSize: number; signal?: AbortSignal; padId?: number },
): Record<string, number> {
  return evaluatePreferenceSummary(model, examples, reference, options).metrics;
}

/** {@link evaluatePreference}, and the whole gradient-weight summary (histogram included) for an eval row. */
export function evaluatePreferenceSummary(
  model: CausalLanguageModel,
  examples: readonly PreferenceExample[],
  reference: CompletionLogProbs,
  options: PreferenceLossOptions & { rpoAlpha: number; batchSize: number; signal?: AbortSignal; padId?: number },
): { metrics: Record<string, number>; gradientWeight: GradientWeightSummary } {
  if (examples.length === 0) throw new AppFailure('training_data_invalid', 'There is no preference pair to evaluate.');
  checkReference(examples, reference);
  const batchSize = Math.max(1, options.batchSize);
  const policy = completionLogProbs(model, examples, batchSize, options.signal, options.padId ?? 0);
  const record: PairRecord = {
    policyChosen: [],
    policyRejected: [],
    referenceChosen: [],
    referenceRejected: [],
    perTokenRatios: [],
  };
  let lossSum = 0;
  let chosenLogProbs = 0;
  let chosenTokens = 0;
  for (let start = 0; start < examples.length; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, examples.length - start) }, (_, row) => start + row);
    const pick = (values: ArrayLike<number>) => indices.map((index) => values[index] as number);
    const rows = {
      chosen: pick(reference.chosen),
      rejected: pick(reference.rejected),
      chosenTokens: pick(reference.chosenTokens),
      rejectedTokens: pick(reference.rejectedTokens),
    };
    const policyChosen = pick(policy.chosen);
    const policyRejected = pick(policy.rejected);
    lossSum += tf.tidy(() => {
      const inputs = lossInputs(options.type, rows, tf.tensor1d(policyChosen), tf.tensor1d(policyRejected));
      const { losses } = preferenceLoss(
        inputs.policyChosen,
        inputs.policyRejected,
        inputs.referenceChosen,
        inputs.referenceRejected,
        options,
      );
      record.policyChosen.push(...(inputs.policyChosen.dataSync() as Float32Array));
      record.policyRejected.push(...(inputs.policyRejected.dataSync() as Float32Array));
      record.referenceChosen.push(...inputs.referenceChosenValues);
      record.referenceRejected.push(...inputs.referenceRejectedValues);
      return (losses.sum().dataSync() as Float32Array)[0] as number;
    });
    indices.forEach((_, row) => {
      record.perTokenRatios.push(
        ((policyChosen[row] as number) - (rows.chosen[row] as number)) / (rows.chosenTokens[row] as number),
        ((policyRejected[row] as number) - (rows.rejected[row] as number)) / (rows.rejectedTokens[row] as number),
      );
      chosenLogProbs += policyChosen[row] as number;
      chosenTokens += rows.chosenTokens[row] as number;
    });
  }
  const { gradientWeight, ...metrics } = pairMetrics(record, options.beta);
  const loss = lossSum / examples.length + (options.rpoAlpha * -chosenLogProbs) / chosenTokens;
  return {
    metrics: {
      loss,
      ...metrics,
      'gradientWeight/mean': gradientWeight.mean,
      'gradientWeight/p10': gradientWeight.p10,
      'gradientWeight/p50': gradientWeight.p50,
      'gradientWeight/p90': gradientWeight.p90,
    },
    gradientWeight,
  };
}

/** The loss options in a run's hyperparameters. */
export function lossOptionsOf(hyperparameters: PreferenceHyperparameters): PreferenceLossOptions {
  return {
    type: hyperparameters.loss,
    beta: hyperparameters.beta,
    ktoDesirableWeight: hyperparameters.ktoDesirableWeight,
    ktoUndesirableWeight: hyperparameters.ktoUndesirableWeight,
  };
}

/**
 * The log-probs the loss takes: sums, or for IPO per-token means (TRL divides `all_logps` by the
 * completion's length when loss_type is ipo), of the policy (tensors) and the reference (numbers).
 */
function lossInputs(
  type: PreferenceLossOptions['type'],
  reference: { chosen: number[]; rejected: number[]; chosenTokens: number[]; rejectedTokens: number[] },
  policyChosen: Tensor1D,
  policyRejected: Tensor1D,
): {
  policyChosen: Tensor1D;
  policyRejected: Tensor1D;
  referenceChosen: Tensor1D;
  referenceRejected: Tensor1D;
  referenceChosenValues: number[];
  referenceRejectedValues: number[];
} {
  const average = type === 'ipo';
  const per = (values: number[], tokens: number[]) =>
    average ? values.map((value, row) => value / (tokens[row] as number)) : values;
  const referenceChosenValues = per(reference.chosen, reference.chosenTokens);
  const referenceRejectedValues = per(reference.rejected, reference.rejectedTokens);
  return {
    policyChosen: average ? policyChosen.div(tf.tensor1d(reference.chosenTokens, 'float32')) : policyChosen,
    policyRejected: average ? policyRejected.div(tf.tensor1d(reference.rejectedTokens, 'float32')) : policyRejected,
    referenceChosen: tf.tensor1d(referenceChosenValues, 'float32'),
    referenceRejected: tf.tensor1d(referenceRejectedValues, 'float32'),
    referenceChosenValues,
    referenceRejectedValues,
  };
}

/** TRL's logged means (rewards, accuracies, log-probs), the KL estimate and the gradient weights. */
function pairMetrics(
  record: PairRecord,
  beta: number,
): {
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/margins': number;
  'rewards/accuracies': number;
  'logps/chosen': number;
  'logps/rejected': number;
  kl: number;
  gradientWeight: GradientWeightSummary;
} {
  const pairs = record.policyChosen.length;
  let chosenRewards = 0;
  let rejectedRewards = 0;
  let correct = 0;
  for (let row = 0; row < pairs; row++) {
    const chosen = beta * ((record.policyChosen[row] as number) - (record.referenceChosen[row] as number));
    const rejected = beta * ((record.policyRejected[row] as number) - (record.referenceRejected[row] as number));
    chosenRewards += chosen;
    rejectedRewards += rejected;
    if (chosen > rejected) correct++;
  }
  const mean = (values: readonly number[]) => values.reduce((total, value) => total + value, 0) / values.length;
  return {
    'rewards/chosen': chosenRewards / pairs,
    'rewards/rejected': rejectedRewards / pairs,
    'rewards/margins': (chosenRewards - rejectedRewards) / pairs,
    'rewards/accuracies': correct / pairs,
    'logps/chosen': mean(record.policyChosen),
    'logps/rejected': mean(record.policyRejected),
    kl: mean(record.perTokenRatios),
    gradientWeight: summarizeGradientWeights(
      gradientWeights(
        beta,
        record.policyChosen,
        record.policyRejected,
        record.referenceChosen,
        record.referenceRejected,
      ),
    ),
  };
}

/** Checks the reference log-probs belong to the examples (same count, same completion lengths). */
function checkReference(examples: readonly PreferenceExample[], reference: CompletionLogProbs): void {
  const fits =
    reference.chosen.length === examples.length &&
    reference.rejected.length === examples.length &&
    examples.every(
      (example, index) =>
        reference.chosenTokens[index] === example.chosen.length &&
        reference.rejectedTokens[index] === example.rejected.length,
    );
  if (!fits) {
    throw new AppFailure('training_data_invalid', 'The reference log-probs were computed for other pairs.');
  }
}

/** The order of the pairs in the epoch whose generator starts at `state`. */
function epochOrder(state: RandomState, count: number): number[] {
  return Random.fromState(state).permutation(count);
}

/** Lets pending events (a cancellation) run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The supervised fine-tuning loop (minGPT's trainer and HF's Trainer, reduced to what SFT needs):
 * a seeded order of the examples per epoch, micro-batches of right-padded sequences, gradient
 * accumulation, the loss averaged over the step's assistant tokens, clipping by global norm, one
 * optimizer update at the schedule's learning rate. The trainer's state (step, epoch, cursor and the
 * random state the epoch's order came from) is plain JSON, so a checkpoint can store it and a
 * resumed trainer takes exactly the step the uninterrupted one would have taken next.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import type { CausalLanguageModel, RandomState } from '../model/index.js';
import { Random } from '../model/index.js';
import type { SftExample, TokenBatch } from './data.js';
import { shardBatch } from './data.js';
import type { Optimizer, OptimizerConfig, OptimizerState } from '../compute/optimizers.js';
import { OPTIMIZER_DEFAULTS, clipByGlobalNorm, createOptimizer } from '../compute/optimizers.js';
import type { GradientExecutor } from './parallel.js';
import type { Schedule, ScheduleKind } from './schedules.js';
import { learningRateAt } from './schedules.js';

/** The hyperparameters of an SFT run (one typed config, defaults in {@link SFT_DEFAULTS}; stored in the run). */
export interface SftHyperparameters {
  epochs: number;
  /** Stops after this many optimizer steps (overrides epochs for the schedule's length); null: epochs decide. */
  maxSteps: number | null;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step. */
  gradientAccumulation: number;
  learningRate: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** Where the schedule's decay ends, as a fraction of the peak rate. */
  minLearningRateRatio: number;
  optimizer: OptimizerConfig;
  /** Clip the gradient's global L2 norm to this; 0 turns clipping off. */
  maxGradNorm: number;
  /** Longest sequence in tokens (longer examples keep their start). */
  maxLength: number;
  seed: number;
  /**
   * Parts each micro-batch is split into, each computed on its own thread when threads are
   * available. Part of the run's config (not the machine's): the sum over parts is rounded in its
   * own way, and a resumed run must round the same way.
   */
  shards: number;
  /** Steps between checkpoints (the last step always gets one). */
  checkpointEvery: number;
  /** Checkpoints kept on disk. */
  keepCheckpoints: number;
}

/** The defaults of SFT (HF TrainingArguments' where they apply: linear schedule, clip 1.0, no decay). */
export const SFT_DEFAULTS: SftHyperparameters = {
  epochs: 1,
  maxSteps: null,
  batchSize: 8,
  gradientAccumulation: 1,
  learningRate: 5e-5,
  schedule: 'linear',
  warmupSteps: 0,
  minLearningRateRatio: 0,
  optimizer: OPTIMIZER_DEFAULTS.adamw,
  maxGradNorm: 1,
  maxLength: 512,
  seed: 42,
  shards: 1,
  checkpointEvery: 100,
  keepCheckpoints: 3,
};

/** What a trainer's state is made of (trainer_state.json's `trainer`). */
export const TrainerStateSchema = z.object({
  /** Optimizer steps taken. */
  step: z.number().int().nonnegative(),
  /** The epoch being read (0-based). */
  epoch: z.number().int().nonnegative(),
  /** The next micro-batch of the epoch. */
  cursor: z.number().int().nonnegative(),
  /** The random state the current epoch's order was drawn from. */
  epochRandom: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** Real tokens read so far. */
  tokensSeen: z.number().int().nonnegative(),
});
export type TrainerState = z.infer<typeof TrainerStateSchema>;

/** One optimizer step's numbers (a metrics.jsonl line). */
export interface StepMetrics {
  /** Steps taken, this one included. */
  step: number;
  /** Epochs read, fractional. */
  epoch: number;
  /** Mean cross-entropy over the step's assistant tokens. */
  loss: number;
  /** The gradient's global norm before clipping. */
  gradNorm: number;
  learningRate: number;
  /** Real tokens read in the step (padding excluded). */
  tokens: number;
  lossTokens: number;
  tokensPerSecond: number;
  seconds: number;
}

export class SftTrainer {
  readonly optimizer: Optimizer;
  readonly totalSteps: number;
  readonly microBatchesPerEpoch: number;
  private state: TrainerState;
  private order: number[];

  /**
   * Takes ownership of nothing: the caller disposes the model and closes the executor. The
   * optimizer's slots are the trainer's (freed by {@link SftTrainer.dispose}).
   */
  constructor(
    private readonly model: CausalLanguageModel,
    private readonly examples: readonly SftExample[],
    readonly hyperparameters: SftHyperparameters,
    private readonly executor: GradientExecutor,
    private readonly padId = 0,
  ) {
    if (examples.length === 0) {
      throw new AppFailure('training_data_invalid', 'There is no example with assistant tokens to train on.');
    }
    this.optimizer = createOptimizer(hyperparameters.optimizer, model.parameters());
    this.microBatchesPerEpoch = Math.ceil(examples.length / hyperparameters.batchSize);
    const stepsPerEpoch = Math.ceil(this.microBatchesPerEpoch / hyperparameters.gradientAccumulation);
    this.totalSteps = hyperparameters.maxSteps ?? hyperparameters.epochs * stepsPerEpoch;
    const start = new Random(hyperparameters.seed).getState();
    this.state = { step: 0, epoch: 0, cursor: 0, epochRandom: start, tokensSeen: 0 };
    this.order = this.epochOrder(start);
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
      warmupSteps: this.hyperparameters.warmupSteps,
      totalSteps: this.totalSteps,
      minimumRatio: this.hyperparameters.minLearningRateRatio,
    };
  }

  /** Takes one optimizer step. */
  async trainStep(): Promise<StepMetrics> {
    const started = performance.now();
    const { batchSize, gradientAccumulation, shards, maxGradNorm } = this.hyperparameters;
    if (this.state.cursor >= this.microBatchesPerEpoch) this.nextEpoch();

    let sum: Map<string, Tensor> | undefined;
    let lossSum = 0;
    let lossTokens = 0;
    let tokens = 0;
    try {
      // A step reads up to `gradientAccumulation` micro-batches and never crosses an epoch's end.
      for (let micro = 0; micro < gradientAccumulation && this.state.cursor < this.microBatchesPerEpoch; micro++) {
        const start = this.state.cursor * batchSize;
        const chosen = this.order.slice(start, start + batchSize).map((index) => this.examples[index] as SftExample);
        const parts: TokenBatch[] = shardBatch(chosen, shards, this.padId);
        const results = await this.executor.compute(parts);
        for (const [index, result] of results.entries()) {
          const part = parts[index] as TokenBatch;
          lossSum += result.lossSum;
          lossTokens += part.lossTokens;
          tokens += part.tokens;
          if (sum === undefined) {
            sum = result.gradients;
            continue;
          }
          for (const [name, gradient] of result.gradients) {
            const previous = sum.get(name) as Tensor;
            sum.set(name, tf.add(previous, gradient));
            tf.dispose([previous, gradient]);
          }
        }
        this.state.cursor++;
      }
      if (sum === undefined || lossTokens === 0) {
        throw new AppFailure('training_data_invalid', 'A training step found no assistant tokens to learn from.');
      }
      const loss = lossSum / lossTokens;
      if (!Number.isFinite(loss)) {
        throw new AppFailure('training_diverged', `The loss is ${loss} at step ${this.state.step + 1}.`);
      }
      // Mean over the step's loss tokens, as one batch of all micro-batches would give.
      const mean = new Map<string, Tensor>();
      for (const [name, gradient] of sum)
        mean.set(
          name,
          tf.tidy(() => gradient.div(lossTokens)),
        );
      tf.dispose([...sum.values()]);
      sum = mean;
      const clipped = await clipByGlobalNorm(sum, maxGradNorm);
      tf.dispose([...sum.values()]);
      sum = clipped.gradients;
      const learningRate = learningRateAt(this.schedule, this.state.step);
      this.optimizer.apply(sum, learningRate);
      this.executor.weightsChanged();
      this.state.step++;
      this.state.tokensSeen += tokens;
      const seconds = (performance.now() - started) / 1000;
      return {
        step: this.state.step,
        epoch: this.state.epoch + this.state.cursor / this.microBatchesPerEpoch,
        loss,
        gradNorm: clipped.norm,
        learningRate,
        tokens,
        lossTokens,
        tokensPerSecond: tokens / seconds,
        seconds,
      };
    } finally {
      if (sum !== undefined) tf.dispose([...sum.values()]);
    }
  }

  /** The trainer's state (JSON) and a copy of the optimizer's, for a checkpoint. */
  async save(): Promise<{ trainer: TrainerState; optimizer: OptimizerState }> {
    return {
      trainer: { ...this.state, epochRandom: [...this.state.epochRandom] as RandomState },
      optimizer: await this.optimizer.save(),
    };
  }

  /**
   * Continues from a saved state (the model's weights are the caller's to restore).
   * @throws AppFailure `checkpoint_config_mismatch` for an optimizer state that does not fit
   */
  restore(trainer: TrainerState, optimizer: OptimizerState): void {
    this.optimizer.restore(optimizer);
    if (optimizer.step !== trainer.step) {
      throw new AppFailure(
        'checkpoint_invalid',
        `The optimizer took ${optimizer.step} steps but the trainer state says ${trainer.step}.`,
      );
    }
    this.state = { ...trainer, epochRandom: [...trainer.epochRandom] as RandomState };
    this.order = this.epochOrder(this.state.epochRandom);
    this.executor.weightsChanged();
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  private nextEpoch(): void {
    const random = Random.fromState(this.state.epochRandom);
    random.permutation(this.examples.length);
    this.state.epoch++;
    this.state.cursor = 0;
    this.state.epochRandom = random.getState();
    this.order = this.epochOrder(this.state.epochRandom);
  }

  /** The order of the examples in the epoch whose generator starts at `state`. */
  private epochOrder(state: RandomState): number[] {
    return Random.fromState(state).permutation(this.examples.length);
  }
}

/**
 * Fills in the defaults and checks the ranges.
 * @throws AppFailure `job_invalid_params` naming the field
 */
export function resolveHyperparameters(partial: Partial<SftHyperparameters> = {}): SftHyperparameters {
  const resolved: SftHyperparameters = { ...SFT_DEFAULTS, ...partial };
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new AppFailure('job_invalid_params', message);
  };
  const positiveInteger = (value: number) => Number.isSafeInteger(value) && value > 0;
  check(positiveInteger(resolved.epochs), 'epochs must be a positive integer.');
  check(resolved.maxSteps === null || positiveInteger(resolved.maxSteps), 'maxSteps must be a positive integer.');
  check(positiveInteger(resolved.batchSize), 'batchSize must be a positive integer.');
  check(positiveInteger(resolved.gradientAccumulation), 'gradientAccumulation must be a positive integer.');
  check(Number.isFinite(resolved.learningRate) && resolved.learningRate > 0, 'learningRate must be > 0.');
  check(Number.isSafeInteger(resolved.warmupSteps) && resolved.warmupSteps >= 0, 'warmupSteps must be an integer ≥ 0.');
  check(
    resolved.minLearningRateRatio >= 0 && resolved.minLearningRateRatio <= 1,
    'minLearningRateRatio must be in [0, 1].',
  );
  check(Number.isFinite(resolved.maxGradNorm) && resolved.maxGradNorm >= 0, 'maxGradNorm must be ≥ 0.');
  check(positiveInteger(resolved.maxLength) && resolved.maxLength >= 2, 'maxLength must be an integer ≥ 2.');
  check(Number.isSafeInteger(resolved.seed), 'seed must be an integer.');
  check(positiveInteger(resolved.shards), 'shards must be a positive integer.');
  check(positiveInteger(resolved.checkpointEvery), 'checkpointEvery must be a positive integer.');
  check(positiveInteger(resolved.keepCheckpoints), 'keepCheckpoints must be a positive integer.');
  return resolved;
}

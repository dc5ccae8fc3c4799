/**
 * The optimizers of training, written out over the model's variables rather than taken from
 * tf.train: tfjs has Adam but not AdamW (decoupled weight decay), and its optimizers cannot hand
 * their moments to a checkpoint by parameter name. Each update follows PyTorch's algorithm
 * (torch/optim/adamw.py, rmsprop.py) line by line, so hyperparameters mean what they mean there;
 * the state (step count and one or two slots per weight) saves and restores exactly, which is
 * what makes a resumed step bit-identical.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from './tf.js';

/** AdamW (Loshchilov and Hutter, arXiv 1711.05101, Algorithm 2), PyTorch's defaults. */
export interface AdamWConfig {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled: weights shrink by learningRate × weightDecay per step, apart from the gradient. */
  weightDecay: number;
}

/** RMSprop (Hinton, Coursera lecture 6e) as PyTorch writes it; weight decay is L2, added to the gradient. */
export interface RmspropConfig {
  kind: 'rmsprop';
  /** Smoothing of the running mean of squared gradients. */
  alpha: number;
  epsilon: number;
  weightDecay: number;
  momentum: number;
}

export type OptimizerConfig = AdamWConfig | RmspropConfig;
export type OptimizerKind = OptimizerConfig['kind'];

/** The defaults of each optimizer, in one place (PyTorch's, except weight decay 0 as in HF's Trainer). */
export const OPTIMIZER_DEFAULTS: { adamw: AdamWConfig; rmsprop: RmspropConfig } = {
  adamw: { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
  rmsprop: { kind: 'rmsprop', alpha: 0.99, epsilon: 1e-8, weightDecay: 0, momentum: 0 },
};

/** Which weights decay: every one, or only matrices (not biases, norms' gains; nanoGPT's rule). */
export type DecayScope = 'all' | 'matrices';

/** One saved slot: the optimizer's per-weight tensor, by `<slot>.<weight name>`. */
export interface OptimizerSlot {
  shape: number[];
  data: Float32Array;
}

/** What a checkpoint stores of an optimizer. */
export interface OptimizerState {
  config: OptimizerConfig;
  /** Updates applied so far (AdamW's bias correction depends on it). */
  step: number;
  slots: Map<string, OptimizerSlot>;
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Updates applied so far. */
  readonly step: number;
  /**
   * Applies one update with the gradients by weight name (weights without a gradient are left
   * as they are, their slots too). Disposes nothing it is given.
   */
  apply(gradients: ReadonlyMap<string, Tensor>, learningRate: number): void;
  /** A copy of the state, for a checkpoint. */
  save(): Promise<OptimizerState>;
  /**
   * Replaces the state with a saved one.
   * @throws AppFailure `checkpoint_config_mismatch` for another optimizer or a slot that does not fit
   */
  restore(state: OptimizerState): void;
  dispose(): void;
}

/**
 * An optimizer over `parameters` (the model's weights by name). Its slots start at zero, as in
 * PyTorch.
 */
export function createOptimizer(
  config: OptimizerConfig,
  parameters: ReadonlyMap<string, Variable>,
  decayScope: DecayScope = 'matrices',
): Optimizer {
  return new SlottedOptimizer(config, parameters, decayScope);
}

/** The slot names of each optimizer (PyTorch's state keys). */
function slotNames(config: OptimizerConfig): string[] {
  if (config.kind === 'adamw') return ['exp_avg', 'exp_avg_sq'];
  return config.momentum > 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg'];
}

class SlottedOptimizer implements Optimizer {
  readonly config: OptimizerConfig;
  private updates = 0;
  /** slot name → weight name → variable. */
  private readonly slots = new Map<string, Map<string, Variable>>();

  constructor(
    config: OptimizerConfig,
    private readonly parameters: ReadonlyMap<string, Variable>,
    private readonly decayScope: DecayScope,
  ) {
    this.config = { ...config };
    for (const slot of slotNames(config)) {
      const byWeight = new Map<string, Variable>();
      for (const [name, weight] of parameters) {
        const initial = tf.zerosLike(weight);
        byWeight.set(name, tf.variable(initial, false));
        initial.dispose();
      }
      this.slots.set(slot, byWeight);
    }
  }

  get step(): number {
    return this.updates;
  }

  apply(gradients: ReadonlyMap<string, Tensor>, learningRate: number): void {
    const step = this.updates + 1;
    tf.tidy(() => {
      for (const [name, gradient] of gradients) {
        const weight = this.parameters.get(name);
        if (weight === undefined) throw new Error(`No weight ${name} to update.`);
        const decays = this.decayScope === 'all' || weight.rank >= 2;
        if (this.config.kind === 'adamw') this.adamw(this.config, name, weight, gradient, learningRate, step, decays);
        else this.rmsprop(this.config, name, weight, gradient, learningRate, decays);
      }
    });
    this.updates = step;
  }

  /** torch.optim.AdamW's single-tensor update. */
  private adamw(
    config: AdamWConfig,
    name: string,
    weight: Variable,
    gradient: Tensor,
    learningRate: number,
    step: number,
    decays: boolean,
  ): void {
    const { beta1, beta2, epsilon, weightDecay } = config;
    const average = this.slot('exp_avg', name);
    const squareAverage = this.slot('exp_avg_sq', name);
    const decayed = decays && weightDecay !== 0 ? weight.mul(1 - learningRate * weightDecay) : weight; // p ← p·(1 − lr·λ)
    average.assign(average.mul(beta1).add(gradient.mul(1 - beta1))); // m ← β1·m + (1 − β1)·g
    squareAverage.assign(squareAverage.mul(beta2).add(gradient.square().mul(1 - beta2))); // v ← β2·v + (1 − β2)·g²
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    const denominator = squareAverage.sqrt().div(Math.sqrt(correction2)).add(epsilon); // √v / √(1 − β2ᵗ) + ε
    weight.assign(decayed.sub(average.div(denominator).mul(learningRate / correction1))); // p ← p − lr/(1 − β1ᵗ)·m/denom
  }

  /** torch.optim.RMSprop's single-tensor update (not centered). */
  private rmsprop(
    config: RmspropConfig,
    name: string,
    weight: Variable,
    gradient: Tensor,
    learningRate: number,
    decays: boolean,
  ): void {
    const { alpha, epsilon, weightDecay, momentum } = config;
    const squareAverage = this.slot('square_avg', name);
    const effective = decays && weightDecay !== 0 ? gradient.add(weight.mul(weightDecay)) : gradient; // g + λ·p
    squareAverage.assign(squareAverage.mul(alpha).add(effective.square().mul(1 - alpha))); // s ← α·s + (1 − α)·g²
    const scaled = effective.div(squareAverage.sqrt().add(epsilon)); // g / (√s + ε)
    if (momentum > 0) {
      const buffer = this.slot('momentum_buffer', name);
      buffer.assign(buffer.mul(momentum).add(scaled)); // b ← μ·b + g/(√s + ε)
      weight.assign(weight.sub(buffer.mul(learningRate)));
    } else {
      weight.assign(weight.sub(scaled.mul(learningRate)));
    }
  }

  private slot(slot: string, name: string): Variable {
    const variable = this.slots.get(slot)?.get(name);
    if (variable === undefined) throw new Error(`The optimizer has no ${slot} slot for ${name}.`);
    return variable;
  }

  async save(): Promise<OptimizerState> {
    const slots = new Map<string, OptimizerSlot>();
    for (const [slot, byWeight] of this.slots) {
      for (const [name, variable] of byWeight) {
        slots.set(`${slot}.${name}`, {
          shape: [...variable.shape],
          data: Float32Array.from((await variable.data()) as Float32Array),
        });
      }
    }
    return { config: { ...this.config }, step: this.updates, slots };
  }

  restore(state: OptimizerState): void {
    const mismatch = (message: string): never => {
      throw new AppFailure('checkpoint_config_mismatch', message);
    };
    if (JSON.stringify(state.config) !== JSON.stringify(this.config)) {
      mismatch(
        `The checkpoint's optimizer is ${JSON.stringify(state.config)}; this run's is ${JSON.stringify(this.config)}.`,
      );
    }
    if (!Number.isSafeInteger(state.step) || state.step < 0)
      mismatch(`The optimizer step ${state.step} is not a count.`);
    const expected = [...this.slots].flatMap(([slot, byWeight]) =>
      [...byWeight.keys()].map((name) => `${slot}.${name}`),
    );
    if (expected.length !== state.slots.size) {
      mismatch(`The checkpoint holds ${state.slots.size} optimizer slots; this optimizer has ${expected.length}.`);
    }
    for (const [slot, byWeight] of this.slots) {
      for (const [name, variable] of byWeight) {
        const saved = state.slots.get(`${slot}.${name}`);
        if (saved === undefined) mismatch(`The checkpoint lacks the optimizer slot ${slot}.${name}.`);
        else if (saved.shape.join(',') !== variable.shape.join(',')) {
          mismatch(
            `The optimizer slot ${slot}.${name} has shape [${saved.shape.join(', ')}], not [${variable.shape.join(', ')}].`,
          );
        }
      }
    }
    for (const [slot, byWeight] of this.slots) {
      for (const [name, variable] of byWeight) {
        const saved = state.slots.get(`${slot}.${name}`) as OptimizerSlot;
        tf.tidy(() => variable.assign(tf.tensor(saved.data, saved.shape, 'float32')));
      }
    }
    this.updates = state.step;
  }

  dispose(): void {
    for (const byWeight of this.slots.values()) tf.dispose([...byWeight.values()]);
    this.slots.clear();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
 * factor maxNorm / (norm + 1e-6) when below 1). Returns new tensors (the caller disposes them and
 * its own) and the norm before clipping. `maxNorm` ≤ 0 or infinite only measures the norm.
 */
export async function clipByGlobalNorm(
  gradients: ReadonlyMap<string, Tensor>,
  maxNorm: number,
): Promise<{ gradients: Map<string, Tensor>; norm: number }> {
  const squared = tf.tidy(() => tf.addN([...gradients.values()].map((gradient) => gradient.square().sum()))); // ()
  const norm = Math.sqrt(((await squared.data()) as Float32Array)[0] as number);
  squared.dispose();
  const factor = maxNorm > 0 && Number.isFinite(maxNorm) ? maxNorm / (norm + 1e-6) : 1;
  const clipped = new Map<string, Tensor>();
  for (const [name, gradient] of gradients) {
    clipped.set(name, factor < 1 ? tf.tidy(() => gradient.mul(factor)) : gradient.clone());
  }
  return { gradients: clipped, norm };
}

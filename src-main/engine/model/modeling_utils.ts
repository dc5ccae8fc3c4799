/**
 * What both decoders share (the role of HF's modeling_utils.py): the causal language model
 * interface the rest of the engine uses, the parameter specs that tie the workbench's weights to
 * Hugging Face tensor names, the key/value cache, and the input checks of `forward`.
 */
import { fusedAttentionAvailable } from './fused-attention.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, TensorContainer, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import type { ModelConfig } from './config.js';
import { fusedKernelsAvailable } from './kernels.js';

/** How a parameter is initialised by a fresh model (HF `_init_weights`). */
export type ParameterInit = { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' };

/** One weight of a model: its HF name, the shape the workbench holds, and how it maps to the file. */
export interface ParameterSpec {
  /** The HF tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`, `transformer.h.0.attn.c_attn.weight`. */
  name: string;
  /** The shape held in the workbench. */
  shape: number[];
  /**
   * True when the workbench holds the transpose of the HF tensor: torch nn.Linear weights are
   * [out, in] in the file and [in, out] here, so every forward product is untransposed. GPT-2's
   * Conv1D weights are [in, out] in both.
   */
  transposed: boolean;
  init: ParameterInit;
}

/** The shape of a parameter as stored in an HF safetensors file. */
export function hfShape(spec: ParameterSpec): number[] {
  return spec.transposed ? [...spec.shape].reverse() : [...spec.shape];
}

/** The cached keys and values of one layer, after RoPE: (B, K, S, D) each. */
export interface LayerKeyValues {
  key: Tensor4D;
  value: Tensor4D;
}

/**
 * Keys and values of the tokens already read, for incremental decoding. `forward` never disposes
 * a cache it is given; {@link disposeCache} frees one that is no longer needed.
 */
export interface KeyValueCache {
  layers: LayerKeyValues[];
  /** Tokens in the cache (S of every layer's tensors). */
  length: number;
}

/**
 * A preallocated key/value cache for generation (HF StaticCache): each layer's keys and values are
 * (B, K, capacity, D) tensors that `forward` writes in place at positions length … length + T − 1,
 * then advancing `length`, so the cache never grows by concatenation (a copy of it per token).
 * A forward with one runs the fused inference kernels of kernels.ts: it computes no gradients, and
 * needs {@link staticCacheSupported}. `forward` returns it as its cache; free it with
 * {@link disposeCache} (or `dispose`) when generation ends.
 */
export class StaticCache {
  readonly layers: LayerKeyValues[];
  readonly batch: number;
  readonly capacity: number;
  /** Tokens written so far. */
  length = 0;

  constructor(config: ModelConfig, batch: number, capacity: number) {
    const kvHeads = config.family === 'llama' ? config.numKeyValueHeads : config.numAttentionHeads;
    const headDim = config.family === 'llama' ? config.headDim : config.hiddenSize / config.numAttentionHeads;
    this.batch = batch;
    this.capacity = capacity;
    this.layers = Array.from({ length: config.numHiddenLayers }, () => ({
      key: tf.zeros([batch, kvHeads, capacity, headDim]) as Tensor4D,
      value: tf.zeros([batch, kvHeads, capacity, headDim]) as Tensor4D,
    }));
  }

  dispose(): void {
    for (const layer of this.layers) tf.dispose([layer.key, layer.value]);
  }
}

/** Whether a {@link StaticCache} works on the active backend (it needs kernels.ts's fused kernels). */
export function staticCacheSupported(): boolean {
  return fusedKernelsAvailable();
}

export interface ForwardOptions {
  /**
   * (B, S) with S = cache length + T: 1 for a token, 0 for padding (left or right). Padding is never
   * attended to, and, when `positionIds` is not given, does not count towards positions.
   */
  attentionMask?: Tensor2D;
  /**
   * (B, T) int32 positions of the new tokens. Default: derived from `attentionMask` (count of real
   * tokens before each one, as HF's generate does), else cache length + 0, 1, ….
   */
  positionIds?: Tensor2D;
  /**
   * Keys and values of earlier tokens (from a previous call with `useCache`), or a
   * {@link StaticCache}, which this call extends in place (and returns, with or without `useCache`).
   */
  cache?: KeyValueCache | StaticCache;
  /** Return the cache extended with this call's keys and values (new tensors). */
  useCache?: boolean;
  /** Compute logits only for the last n positions (0, the default, keeps all), as HF's logits_to_keep. */
  logitsToKeep?: number;
  /**
   * Return HF's hidden_states: the embedding output, each block's output, and, last, the final
   * block's output after the final norm (numHiddenLayers + 1 tensors of (B, T, d)).
   */
  outputHiddenStates?: boolean;
}

export interface ForwardOutput {
  /** (B, T, V), or (B, n, V) with logitsToKeep n. */
  logits: Tensor3D;
  /** With useCache: the cache including this call's tokens; with a {@link StaticCache}: that cache. */
  cache?: KeyValueCache | StaticCache;
  /** With outputHiddenStates: see {@link ForwardOptions.outputHiddenStates}. */
  hiddenStates?: Tensor3D[];
}

/**
 * A decoder-only language model with Hugging Face weights. Everything `forward` returns is new
 * tensors owned by the caller (dispose them, or call inside tf.tidy); intermediate tensors are
 * freed. Gradients flow to the parameters: use `tf.variableGrads(loss, [...model.parameters().values()])`
 * or an optimizer's `minimize(loss, false, varList)` with that list (without a list, tfjs takes every
 * trainable variable of every model in the process).
 */
export interface CausalLanguageModel {
  readonly config: ModelConfig;
  /** The model's weights, in HF name order of {@link ParameterSpec}s (the tied head has none of its own). */
  readonly specs: readonly ParameterSpec[];
  /**
   * inputIds (B, T) int32 → logits (B, T, V).
   * @throws AppFailure `model_input_invalid` for wrong shapes or dtypes, a sequence past GPT-2's
   * position table, or a disposed model
   */
  forward(inputIds: Tensor2D, options?: ForwardOptions): ForwardOutput;
  /** Every weight by its HF name. Linear weights are held [in, out] (see {@link ParameterSpec.transposed}). */
  parameters(): ReadonlyMap<string, Variable>;
  /** Marks every weight trainable or frozen (a frozen reference model in DPO, say). */
  setTrainable(trainable: boolean): void;
  /** Frees every tensor the model holds. */
  dispose(): void;
  readonly disposed: boolean;
}

/** Disposes the tensors of a key/value cache. */
export function disposeCache(cache: KeyValueCache | StaticCache | undefined): void {
  if (cache === undefined) return;
  for (const layer of cache.layers) tf.dispose([layer.key, layer.value]);
}

/** Checked inputs of one forward call. */
export interface ForwardInputs {
  inputIds: Tensor2D;
  batch: number;
  time: number;
  /** Tokens already in the cache. */
  past: number;
  /** Positions whose logits to compute (the last `keep` of T). */
  keep: number;
  options: ForwardOptions;
}

/** The parts both decoders share: parameter storage, input checks, the tidy around `run`. */
export abstract class PreTrainedModel<C extends ModelConfig> implements CausalLanguageModel {
  readonly config: C;
  readonly specs: readonly ParameterSpec[];
  private readonly variables: ReadonlyMap<string, Variable>;
  private released = false;
  /** weightᵀ of a tied output head, kept while the embedding's data is unchanged. */
  private headCache: { source: object; transposed: Tensor2D } | undefined;

  protected constructor(config: C, specs: readonly ParameterSpec[], variables: ReadonlyMap<string, Variable>) {
    this.config = config;
    this.specs = specs;
    this.variables = variables;
  }

  get disposed(): boolean {
    return this.released;
  }

  parameters(): ReadonlyMap<string, Variable> {
    return this.variables;
  }

  setTrainable(trainable: boolean): void {
    for (const variable of this.variables.values()) variable.trainable = trainable;
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    tf.dispose([...this.variables.values()]);
    this.headCache?.transposed.dispose();
    this.headCache = undefined;
    this.disposeOwnTensors();
  }

  forward(inputIds: Tensor2D, options: ForwardOptions = {}): ForwardOutput {
    const inputs = this.checkInputs(inputIds, options);
    const cache = options.cache;
    if (cache instanceof StaticCache) {
      const logits = tf.tidy(() => this.runStatic(inputs, cache));
      cache.length += inputs.time;
      return { logits, cache };
    }
    return tf.tidy(() => this.run(inputs) as unknown as TensorContainer) as unknown as ForwardOutput;
  }

  /** The forward pass proper, inside a tf.tidy: return only the outputs. */
  protected abstract run(inputs: ForwardInputs): ForwardOutput;

  /**
   * The forward pass with a {@link StaticCache} (inference only, fused kernels), inside a tf.tidy:
   * writes this call's keys and values into the cache (its `length` is advanced by `forward`) and
   * returns the logits (B, keep, V).
   */
  protected abstract runStatic(inputs: ForwardInputs, cache: StaticCache): Tensor3D;

  /** Frees tensors a subclass owns besides its parameters. */
  protected disposeOwnTensors(): void {}

  /** Further checks of a family (GPT-2's position table). */
  protected checkFamilyInputs(_inputs: ForwardInputs): void {}

  protected weight2d(name: string): Tensor2D {
    return this.variable(name) as Tensor2D;
  }

  protected weight1d(name: string): Tensor1D {
    return this.variable(name) as Tensor1D;
  }

  protected optional1d(name: string): Tensor1D | undefined {
    return this.variables.get(name) as Tensor1D | undefined;
  }

  /**
   * embeddingᵀ (d, V) for a tied output head, recomputed only when the embedding's data changed
   * (an optimizer step assigns new data), so generation does not transpose it for every token.
   */
  protected transposedHead(embedding: Tensor2D): Tensor2D {
    if (this.headCache?.source !== embedding.dataId) {
      this.headCache?.transposed.dispose();
      this.headCache = { source: embedding.dataId, transposed: tf.keep(tf.transpose(embedding)) }; // (d, V)
    }
    return this.headCache.transposed;
  }

  /** The last `keep` positions of hidden (B·T, d) → (B·keep, d). */
  protected keepLast(hidden: Tensor2D, inputs: ForwardInputs): Tensor2D {
    const { batch, time, keep } = inputs;
    if (keep === time) return hidden;
    const width = hidden.shape[1];
    return hidden
      .reshape([batch, time, width])
      .slice([0, time - keep, 0], [batch, keep, width]) // (B, keep, d)
      .reshape([batch * keep, width]); // (B·keep, d)
  }

  private variable(name: string): Variable {
    const variable = this.variables.get(name);
    if (variable === undefined) throw new Error(`The model has no parameter ${name}.`);
    return variable;
  }

  private checkInputs(inputIds: Tensor2D, options: ForwardOptions): ForwardInputs {
    const fail = (message: string): never => {
      throw new AppFailure('model_input_invalid', message);
    };
    if (this.released) fail('The model has been disposed.');
    if (inputIds.rank !== 2 || inputIds.dtype !== 'int32') {
      fail(
        `inputIds must be an int32 tensor of shape (batch, time), not ${inputIds.dtype} [${inputIds.shape.join(', ')}].`,
      );
    }
    const [batch, time] = inputIds.shape;
    if (batch < 1 || time < 1) fail(`inputIds is empty ([${inputIds.shape.join(', ')}]).`);
    const cache = options.cache;
    const past = cache?.length ?? 0;
    if (cache instanceof StaticCache) {
      if (!staticCacheSupported()) fail(`A static cache needs the wasm or cpu backend, not ${tf.getBackend()}.`);
      if (cache.layers.length !== this.config.numHiddenLayers || cache.batch !== batch) {
        fail(
          `The static cache holds ${cache.layers.length} layers of batch ${cache.batch}; expected ${this.config.numHiddenLayers} of ${batch}.`,
        );
      }
      if (past + time > cache.capacity) {
        fail(`The static cache holds ${cache.capacity} positions; this call needs ${past + time}.`);
      }
      if (options.outputHiddenStates) fail('outputHiddenStates is not available with a static cache.');
    } else if (cache !== undefined) {
      if (cache.layers.length !== this.config.numHiddenLayers) {
        fail(`The cache has ${cache.layers.length} layers; the model has ${this.config.numHiddenLayers}.`);
      }
      for (const layer of cache.layers) {
        if (layer.key.shape[0] !== batch || layer.key.shape[2] !== past || layer.value.shape[2] !== past) {
          fail(`The cache holds [${layer.key.shape.join(', ')}]; expected batch ${batch} and length ${past}.`);
        }
      }
    }
    const mask = options.attentionMask;
    if (mask !== undefined && (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== past + time)) {
      fail(
        `attentionMask must have shape [${batch}, ${past + time}] (cache + new tokens), not [${mask.shape.join(', ')}].`,
      );
    }
    const positions = options.positionIds;
    if (
      positions !== undefined &&
      (positions.rank !== 2 ||
        positions.shape[0] !== batch ||
        positions.shape[1] !== time ||
        positions.dtype !== 'int32')
    ) {
      fail(
        `positionIds must be int32 of shape [${batch}, ${time}], not ${positions.dtype} [${positions.shape.join(', ')}].`,
      );
    }
    const requested = options.logitsToKeep ?? 0;
    if (!Number.isSafeInteger(requested) || requested < 0) fail(`logitsToKeep must be a non-negative integer.`);
    const inputs: ForwardInputs = {
      inputIds,
      batch,
      time,
      past,
      keep: requested === 0 ? time : Math.min(requested, time),
      options,
    };
    this.checkFamilyInputs(inputs);
    return inputs;
  }
}

/** Values for the cache a forward call returns, or undefined without useCache. */
export function extendCache(
  layers: LayerKeyValues[],
  inputs: ForwardInputs,
): { cache: KeyValueCache } | Record<string, never> {
  return inputs.options.useCache === true ? { cache: { layers, length: inputs.past + inputs.time } } : {};
}

/**
 * Whether a forward pass takes the fused training attention (fused-attention.ts): no cache read
 * or returned, and a backend that runs it. Training and scoring passes do; generation does not.
 */
export function usesFusedAttention(inputs: ForwardInputs): boolean {
  const { options } = inputs;
  return inputs.past === 0 && options.cache === undefined && options.useCache !== true && fusedAttentionAvailable();
}

/** Appends this call's keys (or values) (B, K, T, D) to the cached ones (B, K, past, D). */
export function appendToCache(cached: Tensor4D | undefined, current: Tensor4D): Tensor4D {
  return cached === undefined ? current : tf.concat([cached, current], 2); // (B, K, past + T, D)
}

/** The hidden states list entry: (B·T, d) viewed as (B, T, d). */
export function asSequence(hidden: Tensor, batch: number, time: number): Tensor3D {
  return hidden.reshape([batch, time, hidden.shape[hidden.rank - 1] ?? 0]);
}

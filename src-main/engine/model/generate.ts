/**
 * Text generation with the key/value cache: batched prompts of different lengths (left padding
 * with an attention mask; the model derives positions from the mask, as HF's generate does),
 * the sampling filters of HF transformers' generation/logits_process.py, stop strings and EOS,
 * and tokens streamed as text deltas.
 *
 * Sampling happens here, in JavaScript, from the last position's logits, with a seeded
 * generator per row (random.ts): the same seed gives the same completion on every backend up to
 * the backend's float differences in the logits, and a row's completion does not depend on the
 * other prompts in the batch.
 */
import type { Tensor2D } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import type { StreamDecoder, Tokenizer } from '../text/index.js';
import type { CausalLanguageModel, KeyValueCache } from './modeling_utils.js';
import { StaticCache, disposeCache, staticCacheSupported } from './modeling_utils.js';
import { Random } from './random.js';

/** The filters that turn logits into the distribution a token is drawn from (HF's defaults). */
export interface SamplingOptions {
  /** Divides the logits; 0 means greedy decoding (argmax). Default 1. */
  temperature?: number;
  /** Keeps the k most likely tokens (ties with the k-th included); 0 turns it off. Default 0. */
  topK?: number;
  /** Keeps the most likely tokens whose probabilities sum to at least p (nucleus sampling); 1 turns it off. Default 1. */
  topP?: number;
  /** Drops tokens less likely than minP × the most likely token's probability; 0 turns it off. Default 0. */
  minP?: number;
  /**
   * Divides positive logits (multiplies negative ones) of every token already in the prompt or the
   * completion (CTRL, arXiv 1909.05858 §4.1; HF RepetitionPenaltyLogitsProcessor); 1 turns it off. Default 1.
   */
  repetitionPenalty?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to add per prompt. Default 64. Capped so prompt + completion fit the context length. */
  maxNewTokens?: number;
  /** Texts that end a completion; the completion's text is cut before the first one. */
  stopStrings?: readonly string[];
  /** Tokens that end a completion. Default: the tokenizer's EOS and the config's eos_token_id(s). */
  eosTokenIds?: readonly number[];
  /** Seeds the sampling; row i draws from its own generator seeded with (seed, i). Default 0. */
  seed?: number;
  /** Whether text prompts get the tokenizer's special tokens (BOS). Default true, as HF's encode. */
  addSpecialTokens?: boolean;
  /** Called for every generated token with the new text it completes (often ''; never part of a stop string). */
  onToken?(row: number, tokenId: number, textDelta: string): void;
  /** Aborting stops generation between two tokens; `generate` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Threads to split the batch across (see generation-pool.ts); without one, this thread runs it all. */
  pool?: GenerationPool;
}

/** Why a completion ended. */
export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerationResult {
  /** The prompt's token ids. */
  promptIds: number[];
  /** The generated ids, including the EOS or the token that completed a stop string. */
  tokens: number[];
  /** The completion's text: special tokens skipped, cut before a stop string. '' without a tokenizer. */
  text: string;
  finishReason: FinishReason;
}

/** The defaults of {@link GenerateOptions}, in one place. */
export const GENERATION_DEFAULTS = {
  maxNewTokens: 64,
  temperature: 1,
  topK: 0,
  topP: 1,
  minP: 0,
  repetitionPenalty: 1,
  seed: 0,
} as const;

/**
 * Continues each prompt (text, or token ids) with the model. Prompts of different lengths run as
 * one batch, left-padded; every forward after the first reads one token per row from the cache.
 * Generation ends for a row at an EOS token, a stop string or `maxNewTokens`, and for the batch
 * when every row has ended. With a {@link GenerationPool} of several threads the rows are split
 * into contiguous parts computed at once, one per thread, with the same tokens. Every tensor it
 * makes is freed, also when it throws.
 * @throws AppFailure `model_input_invalid` (an id outside the vocabulary, an empty prompt, a prompt
 * longer than the context, text prompts or stop strings without a tokenizer, an option out of range)
 */
export async function generate(
  model: CausalLanguageModel,
  tokenizer: Tokenizer | null,
  prompts: readonly string[] | readonly (readonly number[])[],
  options: GenerateOptions = {},
): Promise<GenerationResult[]> {
  const settings = resolveOptions(options, tokenizer);
  const promptIds = encodePrompts(model, tokenizer, prompts, settings.addSpecialTokens);
  if (promptIds.length === 0) return [];
  const eosIds = [...new Set(options.eosTokenIds ?? defaultEosIds(model, tokenizer))];
  const promptLength = Math.max(...promptIds.map((ids) => ids.length));
  const contextLength = model.config.maxPositionEmbeddings;
  if (promptLength > contextLength) {
    fail(`A prompt has ${promptLength} tokens; the model reads at most ${contextLength}.`);
  }
  const maxNewTokens = Math.min(settings.maxNewTokens, contextLength - promptLength);
  const rows = promptIds.map((ids, index) => new RowState(ids, index, settings, tokenizer));
  if (maxNewTokens === 0) {
    for (const row of rows) row.finish('length');
    return rows.map((row) => row.result());
  }
  const eos = new Set(eosIds);
  const task: DecodeTask = {
    promptIds,
    rowOffset: 0,
    maxNewTokens,
    sampling: samplingOf(settings),
    seed: settings.seed,
    eosTokenIds: eosIds,
  };
  /**
   * Takes one step's tokens of rows from `first` on (−1: the row had ended) into the rows' text;
   * returns whether any of those rows goes on.
   */
  const accept = (first: number, tokens: Int32Array, lastStep: boolean): boolean => {
    let running = false;
    tokens.forEach((token, offset) => {
      const row = rows[first + offset] as RowState;
      if (token >= 0 && !row.done) {
        const delta = row.accept(token, eos, lastStep);
        options.onToken?.(row.index, token, delta);
      }
      if (!row.done) running = true;
    });
    return running;
  };
  const pool = options.pool;
  if (pool !== undefined && pool.threads > 1 && promptIds.length > 1) {
    await pool.run(model, task, accept, options.signal);
  } else {
    await decodeTokens(model, task, (tokens, lastStep) => accept(0, tokens, lastStep), options.signal);
  }
  for (const row of rows) if (!row.done) row.finish('length');
  return rows.map((row) => row.result());
}

/** Takes a part's step: `first` is the batch index of the part's first row; returns whether any of its rows goes on. */
export type AcceptStep = (first: number, tokens: Int32Array, lastStep: boolean) => boolean;

/** Threads that decode a batch's rows in parts (generation-pool.ts builds one). */
export interface GenerationPool {
  /** Threads decoding parts of a batch, the calling thread included. */
  readonly threads: number;
  /** Why fewer threads run than were asked for ('' when all run). */
  readonly note: string;
  /**
   * Decodes `task` split into parts, one per thread, calling `accept` with every part's steps (each
   * part's in order). `model` must be the pool's model. Batches given at once run one after the
   * other. Rejects with the signal's reason when aborted.
   */
  run(model: CausalLanguageModel, task: DecodeTask, accept: AcceptStep, signal?: AbortSignal): Promise<void>;
  /** Tells the pool the model's weights changed (after training), so workers copy them before their next part. */
  weightsChanged(): void;
  /** Stops the worker threads. */
  close(): Promise<void>;
}

/** Token-level work of one part of a batch (what a pool thread runs): no tokenizer, no text. */
export interface DecodeTask {
  promptIds: number[][];
  /** The batch index of the first row: row i samples with the generator seeded (seed, rowOffset + i). */
  rowOffset: number;
  /** Already capped to the context length of the whole batch. */
  maxNewTokens: number;
  sampling: Required<SamplingOptions>;
  seed: number;
  eosTokenIds: number[];
}

/**
 * Runs the model over a task's rows with the key/value cache, sampling each row's next token, and
 * calls `onStep` after every step with the step's token per row (−1 for a row that had ended at an
 * EOS token) and whether it is the last step. Ends after `maxNewTokens` steps, when every row has
 * ended, or when `onStep` returns false. Every tensor it makes is freed, also when it throws.
 */
export async function decodeTokens(
  model: CausalLanguageModel,
  task: DecodeTask,
  onStep: (tokens: Int32Array, lastStep: boolean) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const { promptIds, maxNewTokens } = task;
  const batch = promptIds.length;
  const vocabulary = model.config.vocabSize;
  const eos = new Set(task.eosTokenIds);
  const samplers = promptIds.map((ids, row) => new RowSampler(ids, task.rowOffset + row, task));
  const promptLength = Math.max(...promptIds.map((ids) => ids.length));
  // Left padding: row r's prompt ends at the last column, so every row's next token is column S.
  // Without padding (prompts of one length) no mask is needed: all ones is the same as none.
  const padded = promptIds.some((ids) => ids.length !== promptLength);
  let keys = promptLength;
  let mask = new Int32Array(batch * promptLength);
  const firstInput = new Int32Array(batch * promptLength);
  promptIds.forEach((ids, row) => {
    const offset = row * promptLength + promptLength - ids.length;
    firstInput.set(ids, offset);
    mask.fill(1, offset, (row + 1) * promptLength);
  });

  // A preallocated cache written in place where the backend has the fused kernels (wasm, cpu);
  // elsewhere the cache grows by concatenation.
  let cache: KeyValueCache | StaticCache | undefined = staticCacheSupported()
    ? new StaticCache(model.config, batch, promptLength + maxNewTokens)
    : undefined;
  // Each row's count of real tokens: the position of its next token.
  const realTokens = promptIds.map((ids) => ids.length);
  let input: Tensor2D = tf.tensor2d(firstInput, [batch, promptLength], 'int32'); // (B, T)
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      // Yield a macrotask so a worker can take its cancel message: on wasm and cpu, data() settles in a microtask.
      if (signal) await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw signal.reason ?? new AppFailure('job_cancelled');
      const maskTensor = padded ? tf.tensor2d(mask, [batch, keys], 'int32') : undefined; // (B, S)
      // After the prompt, positions are known here (HF's cumsum(mask) − 1 of the new token).
      const positions =
        step === 0
          ? undefined
          : tf.tensor2d(
              realTokens.map((count) => count - 1),
              [batch, 1],
              'int32',
            ); // (B, 1)
      let output;
      try {
        output = model.forward(input, {
          ...(maskTensor ? { attentionMask: maskTensor } : {}),
          ...(positions ? { positionIds: positions } : {}),
          cache,
          useCache: true,
          logitsToKeep: 1,
        });
      } finally {
        maskTensor?.dispose();
        positions?.dispose();
        input.dispose();
      }
      if (!(cache instanceof StaticCache)) disposeCache(cache);
      cache = output.cache;
      const logits = (await output.logits.data()) as Float32Array; // (B, 1, V)
      output.logits.dispose();

      // Ended rows keep reading a token (0; their outputs are ignored) so the batch stays rectangular.
      const next = new Int32Array(batch);
      const tokens = new Int32Array(batch).fill(-1);
      samplers.forEach((sampler, row) => {
        if (sampler.done) return;
        const token = sampler.choose(logits.subarray(row * vocabulary, (row + 1) * vocabulary));
        next[row] = token;
        tokens[row] = token;
        if (eos.has(token)) sampler.done = true;
      });
      const lastStep = step === maxNewTokens - 1;
      if (!onStep(tokens, lastStep) || samplers.every((sampler) => sampler.done)) break;

      if (padded) {
        const grown = new Int32Array(batch * (keys + 1));
        for (let row = 0; row < batch; row++) {
          grown.set(mask.subarray(row * keys, (row + 1) * keys), row * (keys + 1));
          grown[row * (keys + 1) + keys] = 1;
        }
        mask = grown;
      }
      for (let row = 0; row < batch; row++) realTokens[row] = (realTokens[row] as number) + 1;
      keys += 1;
      input = tf.tensor2d(next, [batch, 1], 'int32'); // (B, 1)
    }
  } finally {
    if (!input.isDisposed) input.dispose();
    disposeCache(cache);
  }
}

/**
 * The distribution the next token is drawn from: the logits of one position after the repetition
 * penalty, then (unless temperature is 0, which gives a one-hot at the argmax) temperature, top-k,
 * top-p and min-p, in the order HF's `_get_logits_processor` applies them. Removed tokens get
 * probability 0. `previous` holds the tokens of the prompt and the completion so far.
 */
export function samplingDistribution(
  logits: ArrayLike<number>,
  options: SamplingOptions = {},
  previous: Iterable<number> = [],
): Float64Array {
  const temperature = options.temperature ?? GENERATION_DEFAULTS.temperature;
  const topK = options.topK ?? GENERATION_DEFAULTS.topK;
  const topP = options.topP ?? GENERATION_DEFAULTS.topP;
  const minP = options.minP ?? GENERATION_DEFAULTS.minP;
  const penalty = options.repetitionPenalty ?? GENERATION_DEFAULTS.repetitionPenalty;
  const size = logits.length;
  const scores = new Float64Array(size);
  for (let index = 0; index < size; index++) scores[index] = logits[index] as number;

  if (penalty !== 1) {
    for (const token of new Set(previous)) {
      if (token < 0 || token >= size) continue;
      const score = scores[token] as number;
      scores[token] = score < 0 ? score * penalty : score / penalty;
    }
  }
  if (temperature === 0) {
    const probabilities = new Float64Array(size);
    probabilities[argMax(scores)] = 1;
    return probabilities;
  }
  if (temperature !== 1)
    for (let index = 0; index < size; index++) scores[index] = (scores[index] as number) / temperature;

  if (topK > 0 && topK < size) {
    // HF TopKLogitsWarper: remove scores below the k-th largest (ties with it stay).
    const kth = [...scores].sort((a, b) => b - a)[topK - 1] as number;
    for (let index = 0; index < size; index++) if ((scores[index] as number) < kth) scores[index] = -Infinity;
  }
  if (topP < 1) {
    // HF TopPLogitsWarper: sort ascending, remove while the cumulative probability is ≤ 1 − p, keep the top token.
    const probabilities = softmax(scores);
    const ascending = Array.from({ length: size }, (_, index) => index).sort(
      (a, b) => (scores[a] as number) - (scores[b] as number) || a - b,
    );
    let cumulative = 0;
    for (let rank = 0; rank < size - 1; rank++) {
      const token = ascending[rank] as number;
      cumulative += probabilities[token] as number;
      if (cumulative <= 1 - topP) scores[token] = -Infinity;
    }
  }
  if (minP > 0) {
    // HF MinPLogitsWarper: remove tokens whose probability is below minP × the top probability.
    const probabilities = softmax(scores);
    const threshold = minP * Math.max(...probabilities);
    const top = argMax(scores);
    for (let index = 0; index < size; index++) {
      if (index !== top && (probabilities[index] as number) < threshold) scores[index] = -Infinity;
    }
  }
  return softmax(scores);
}

/** Draws an index from `probabilities` (non-negative, summing to about 1) with one number from `random`. */
export function drawToken(probabilities: Float64Array, random: Random): number {
  let total = 0;
  for (const probability of probabilities) total += probability;
  const target = random.nextFloat() * total;
  let cumulative = 0;
  let last = 0;
  for (let index = 0; index < probabilities.length; index++) {
    const probability = probabilities[index] as number;
    if (probability <= 0) continue;
    cumulative += probability;
    last = index;
    if (cumulative > target) return index;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------

interface ResolvedOptions extends Required<SamplingOptions> {
  maxNewTokens: number;
  seed: number;
  stopStrings: string[];
  addSpecialTokens: boolean;
}

function fail(message: string): never {
  throw new AppFailure('model_input_invalid', message);
}

function resolveOptions(options: GenerateOptions, tokenizer: Tokenizer | null): ResolvedOptions {
  const settings: ResolvedOptions = {
    maxNewTokens: options.maxNewTokens ?? GENERATION_DEFAULTS.maxNewTokens,
    temperature: options.temperature ?? GENERATION_DEFAULTS.temperature,
    topK: options.topK ?? GENERATION_DEFAULTS.topK,
    topP: options.topP ?? GENERATION_DEFAULTS.topP,
    minP: options.minP ?? GENERATION_DEFAULTS.minP,
    repetitionPenalty: options.repetitionPenalty ?? GENERATION_DEFAULTS.repetitionPenalty,
    seed: options.seed ?? GENERATION_DEFAULTS.seed,
    stopStrings: (options.stopStrings ?? []).filter((stop) => stop !== ''),
    addSpecialTokens: options.addSpecialTokens ?? true,
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) fail(`${what}.`);
  };
  check(
    Number.isSafeInteger(settings.maxNewTokens) && settings.maxNewTokens >= 0,
    'maxNewTokens must be an integer ≥ 0',
  );
  check(Number.isFinite(settings.temperature) && settings.temperature >= 0, 'temperature must be ≥ 0');
  check(Number.isSafeInteger(settings.topK) && settings.topK >= 0, 'topK must be an integer ≥ 0');
  check(settings.topP > 0 && settings.topP <= 1, 'topP must be in (0, 1]');
  check(settings.minP >= 0 && settings.minP <= 1, 'minP must be in [0, 1]');
  check(Number.isFinite(settings.repetitionPenalty) && settings.repetitionPenalty > 0, 'repetitionPenalty must be > 0');
  check(Number.isSafeInteger(settings.seed), 'seed must be an integer');
  if (settings.stopStrings.length > 0 && tokenizer === null) fail('Stop strings need a tokenizer.');
  return settings;
}

function encodePrompts(
  model: CausalLanguageModel,
  tokenizer: Tokenizer | null,
  prompts: readonly string[] | readonly (readonly number[])[],
  addSpecialTokens: boolean,
): number[][] {
  const vocabulary = model.config.vocabSize;
  return prompts.map((prompt, row) => {
    let ids: number[];
    if (typeof prompt === 'string') {
      if (tokenizer === null) fail('Text prompts need a tokenizer; pass token ids instead.');
      ids = tokenizer.encode(prompt, { addSpecialTokens });
    } else {
      ids = [...prompt];
    }
    if (ids.length === 0) fail(`Prompt ${row} has no tokens.`);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabulary) {
        fail(`Prompt ${row} holds the token id ${id}; the model's vocabulary has ids 0 to ${vocabulary - 1}.`);
      }
    }
    return ids;
  });
}

function defaultEosIds(model: CausalLanguageModel, tokenizer: Tokenizer | null): number[] {
  const ids = new Set<number>();
  const configured = model.config.eosTokenId;
  if (typeof configured === 'number') ids.add(configured);
  else if (Array.isArray(configured)) for (const id of configured) ids.add(id);
  const eos = tokenizer?.specialTokens.eos;
  if (eos) ids.add(eos.id);
  return [...ids];
}

/** The sampling side of one row: its generator and the tokens it has seen (for the repetition penalty). */
class RowSampler {
  done = false;
  private readonly seen: Set<number>;
  private readonly random: Random;

  constructor(
    promptIds: readonly number[],
    index: number,
    private readonly task: DecodeTask,
  ) {
    this.seen = new Set(promptIds);
    this.random = new Random(task.seed, index);
  }

  /** Reused by {@link drawPlain}. */
  private probabilities: Float64Array | undefined;

  choose(logits: Float32Array): number {
    const { temperature, topK, topP, minP, repetitionPenalty } = this.task.sampling;
    let token: number;
    if (temperature > 0 && topK === 0 && topP === 1 && minP === 0 && repetitionPenalty === 1) {
      token = this.drawPlain(logits, temperature);
    } else {
      const probabilities = samplingDistribution(logits, this.task.sampling, this.seen);
      token = temperature === 0 ? argMax(probabilities) : drawToken(probabilities, this.random);
    }
    this.seen.add(token);
    return token;
  }

  /**
   * drawToken(samplingDistribution(logits, { temperature })) without the filters, in one reused
   * buffer: the same operations in the same order, so the same token, at a fraction of the time.
   */
  private drawPlain(logits: Float32Array, temperature: number): number {
    const size = logits.length;
    if (this.probabilities?.length !== size) this.probabilities = new Float64Array(size);
    const probabilities = this.probabilities;
    let max = -Infinity;
    for (let index = 0; index < size; index++) {
      const score = temperature === 1 ? (logits[index] as number) : (logits[index] as number) / temperature;
      probabilities[index] = score;
      if (score > max) max = score;
    }
    if (max === -Infinity) return 0; // drawToken of all zeros
    let total = 0;
    for (let index = 0; index < size; index++) {
      const value = Math.exp((probabilities[index] as number) - max);
      probabilities[index] = value;
      total += value;
    }
    for (let index = 0; index < size; index++) probabilities[index] = (probabilities[index] as number) / total;
    return drawToken(probabilities, this.random);
  }
}

function samplingOf(settings: ResolvedOptions): Required<SamplingOptions> {
  const { temperature, topK, topP, minP, repetitionPenalty } = settings;
  return { temperature, topK, topP, minP, repetitionPenalty };
}

/** One row's completion as it grows: its tokens, and the text released so far. */
class RowState {
  readonly index: number;
  done = false;
  private readonly promptIds: number[];
  private readonly tokens: number[] = [];
  private readonly decoder: StreamDecoder | null;
  /** Text decoded so far: `released` went out through onToken; the rest may begin a stop string. */
  private decoded = '';
  private released = 0;
  private reason: FinishReason = 'length';

  constructor(
    promptIds: number[],
    index: number,
    private readonly settings: ResolvedOptions,
    tokenizer: Tokenizer | null,
  ) {
    this.promptIds = promptIds;
    this.index = index;
    this.decoder = tokenizer?.createStreamDecoder({ skipSpecialTokens: true }) ?? null;
  }

  /** Records the token and returns the text it releases. */
  accept(token: number, eosIds: ReadonlySet<number>, lastStep: boolean): string {
    this.tokens.push(token);
    if (eosIds.has(token)) {
      return this.finish('eos');
    }
    if (this.decoder !== null) this.decoded += this.decoder.push(token);
    const stopAt = this.findStop();
    if (stopAt !== -1) {
      this.decoded = this.decoded.slice(0, stopAt);
      this.reason = 'stop';
      this.done = true;
      return this.release(this.decoded.length);
    }
    if (lastStep) return this.finish('length');
    return this.release(this.decoded.length - this.heldBack());
  }

  /** Ends the row: flushes the decoder and releases everything not cut by a stop string. */
  finish(reason: FinishReason): string {
    this.reason = reason;
    this.done = true;
    if (this.decoder !== null) this.decoded += this.decoder.flush();
    const stopAt = this.findStop();
    if (stopAt !== -1) {
      this.decoded = this.decoded.slice(0, stopAt);
      this.reason = 'stop';
    }
    return this.release(this.decoded.length);
  }

  result(): GenerationResult {
    return { promptIds: this.promptIds, tokens: this.tokens, text: this.decoded, finishReason: this.reason };
  }

  private release(end: number): string {
    if (end <= this.released) return '';
    const delta = this.decoded.slice(this.released, end);
    this.released = end;
    return delta;
  }

  /** Index of the first stop string in the text (searching only where a new one can start), or −1. */
  private findStop(): number {
    let first = -1;
    for (const stop of this.settings.stopStrings) {
      const from = Math.max(0, this.released - stop.length + 1);
      const at = this.decoded.indexOf(stop, from);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    return first;
  }

  /** How many trailing characters could be the start of a stop string (held back from streaming). */
  private heldBack(): number {
    let longest = 0;
    for (const stop of this.settings.stopStrings) {
      for (let length = Math.min(stop.length - 1, this.decoded.length); length > longest; length--) {
        if (this.decoded.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const score of scores) if (score > max) max = score;
  const probabilities = new Float64Array(scores.length);
  if (max === -Infinity) return probabilities;
  let total = 0;
  for (let index = 0; index < scores.length; index++) {
    const value = Math.exp((scores[index] as number) - max);
    probabilities[index] = value;
    total += value;
  }
  for (let index = 0; index < scores.length; index++) probabilities[index] = (probabilities[index] as number) / total;
  return probabilities;
}

/** The index of the largest value (the first of equal ones, as torch.argmax). */
function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++)
    if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

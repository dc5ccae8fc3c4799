/**
 * Evaluates checkpoints on held-out prompts (drift-paper.md §5): n samples per prompt from each
 * checkpoint (the same seeds for each, so sample k of a prompt is a paired comparison), rewards and
 * an optional gold verdict for each, win rates against the first checkpoint, the diversity of each
 * checkpoint's high-reward outputs, and the reward-weighted map of §5.3. One typed result
 * ({@link EvaluationResult}); the eval job, the CLI and the Compare view only pass it on.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  CheckpointEvaluation,
  EvaluationResult,
  EvaluationSample,
  EvaluationSettingsInput,
  RewardMap,
  WinRate,
} from '../../api/index.js';
import { AppFailure, EvaluationSettings } from '../../api/index.js';
import { Random, createGenerationPool, generate, loadHfModel } from '../model/index.js';

import type { ChatMessage, Tokenizer } from '../text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, loadOptionalTokenizer } from '../text/index.js';
import { diversityMetrics } from './diversity.js';
import type { TextEmbedder } from './embeddings.js';
import { hashedTfidfEmbeddings, modelEmbeddings } from './embeddings.js';
import { highDensityRegion, projectTo2d, regionShares, weightedDensity } from './map.js';
import type { RewardFunction } from './reward-model.js';
import { loadRewardModel } from './reward-model.js';
import type { Comparison } from './statistics.js';
import { histogram, histogramEdges, pairedWinRate, quantile, summarize, summarizeGold } from './statistics.js';

/** A checkpoint to evaluate: an HF model folder with its tokenizer, and the name results show. */
export interface CheckpointSpec {
  label: string;
  folder: string;
}

export type EvaluationPhase = 'generating' | 'scoring' | 'analysing';

export interface EvaluateCheckpointsOptions {
  /** The first is the base every win rate compares against. */
  checkpoints: readonly CheckpointSpec[];
  /** Held-out conversations, each answered as the next assistant turn. */
  prompts: readonly (readonly ChatMessage[])[];
  reward: RewardFunction;
  /** A checker's verdicts (1 success, 0 failure) where the task has one. */
  gold?: RewardFunction;
  settings?: EvaluationSettingsInput;
  /** Overrides `settings.embedding` (say, an embedder that is already loaded). */
  embedder?: TextEmbedder;
  /**
   * Progress in responses handled; `total` counts generation, scoring (and gold) of each response,
   * and 1 for analysis. While generating, `threads` says how many threads decode.
   */
  onProgress?(done: number, total: number, phase: EvaluationPhase, threads?: number): void;
  /** Checked between batches; evaluation then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One generated response while the evaluation runs. */
interface Response {
  checkpoint: number;
  prompt: number;
  sample: number;
  text: string;
  finishReason: EvaluationSample['finishReason'];
  tokens: number;
  reward: number;
  gold: number | null;
}

/**
 * Runs the evaluation. Loads one checkpoint at a time (freed before the next).
 * @throws AppFailure `job_invalid_params` (settings, no checkpoint or prompt), `model_tokenizer_missing`,
 * the model loaders' codes, `internal_error` (a reward function that returns the wrong count or a
 * non-finite number), the signal's reason when aborted
 */
export async function evaluateCheckpoints(options: EvaluateCheckpointsOptions): Promise<EvaluationResult> {
  const started = performance.now();
  const settings = parseSettings(options.settings ?? {});
  const { checkpoints, prompts, signal } = options;
  if (checkpoints.length === 0) throw new AppFailure('job_invalid_params', 'There is no checkpoint to evaluate.');
  if (prompts.length === 0) throw new AppFailure('job_invalid_params', 'There is no held-out prompt.');
  const perCheckpoint = prompts.length * settings.samples;
  const responseCount = checkpoints.length * perCheckpoint;
  const total = responseCount * (options.gold ? 3 : 2) + 1;
  let done = 0;
  const advance = (count: number, phase: EvaluationPhase, threads?: number) => {
    done += count;
    options.onProgress?.(done, total, phase, threads);
  };
  const checkCancelled = () => {
    if (signal?.aborted) throw signal.reason ?? new AppFailure('job_cancelled');
  };

  const responses: Response[] = [];
  for (const [index, checkpoint] of checkpoints.entries()) {
    const generated = await sampleCheckpoint(index, checkpoint, prompts, settings, signal, (count, threads) =>
      advance(count, 'generating', threads),
    );
    await scoreAll(generated, prompts, options.reward, settings.rewardBatchSize, checkCancelled, (batch, values) => {
      batch.forEach((response, offset) => (response.reward = values[offset] as number));
      advance(batch.length, 'scoring');
    });
    if (options.gold) {
      await scoreAll(generated, prompts, options.gold, settings.rewardBatchSize, checkCancelled, (batch, values) => {
        batch.forEach((response, offset) => (response.gold = values[offset] as number));
        advance(batch.length, 'scoring');
      });
    }
    responses.push(...generated);
  }

  checkCancelled();
  const rewards = responses.map((response) => response.reward);
  const threshold =
    settings.highReward.kind === 'quantile'
      ? quantile(rewards, settings.highReward.quantile)
      : settings.highReward.value;
  const isHigh = (response: Response) => response.reward >= threshold;
  const edges = histogramEdges(rewards, 20);
  const texts = responses.map((response) => response.text);
  // Samples repeat a lot (the demo's 32,000 responses hold about 4,000 texts): a model embeds each
  // distinct text once, and the map projects each once.
  const distinct = distinctTexts(texts);
  const embeddings = await embedResponses(texts, distinct, settings, checkpoints, options.embedder, signal);
  checkCancelled();

  const evaluations: CheckpointEvaluation[] = checkpoints.map((checkpoint, index) => {
    const own = responses
      .map((response, position) => ({ response, position }))
      .filter(({ response }) => response.checkpoint === index);
    const high = own.filter(({ response }) => isHigh(response));
    const limited =
      high.length > settings.diversitySampleLimit
        ? new Random(settings.seed, index)
            .permutation(high.length)
            .slice(0, settings.diversitySampleLimit)
            .sort((a, b) => a - b)
            .map((position) => high[position] as (typeof high)[number])
        : high;
    const golds = own.map(({ response }) => response.gold).filter((value): value is number => value !== null);
    return {
      label: checkpoint.label,
      folder: checkpoint.folder,
      rewards: summarize(own.map(({ response }) => response.reward)),
      histogram: histogram(
        own.map(({ response }) => response.reward),
        edges,
      ),
      gold: golds.length === 0 ? null : summarizeGold(golds),
      highRewardCount: high.length,
      diversity: diversityMetrics(
        limited.map(({ response }) => response.text),
        limited.map(({ position }) => embeddings[position] as number[]),
      ),
      samples: own.map(({ response }) => ({
        prompt: response.prompt,
        sample: response.sample,
        text: response.text,
        reward: response.reward,
        gold: response.gold,
        highReward: isHigh(response),
        finishReason: response.finishReason,
        tokens: response.tokens,
      })),
    };
  });

  const winRates = checkpoints
    .slice(1)
    .map((_, offset) => pairwiseWinRate(offset + 1, 0, responses, prompts.length, settings));
  const embeddingKind = options.embedder ? 'model' : settings.embedding.kind;
  const map =
    responses.length >= 3
      ? rewardMap(responses, embeddings, distinct, isHigh, checkpoints.length, settings, embeddingKind)
      : null;
  advance(1, 'analysing');

  return {
    version: 1,
    settings,
    prompts: prompts.map((messages) => messages.map(({ role, content }) => ({ role, content }))),
    highRewardThreshold: threshold,
    histogramEdges: edges,
    checkpoints: evaluations,
    winRates,
    map,
    seconds: (performance.now() - started) / 1000,
  };
}

function parseSettings(input: EvaluationSettingsInput): EvaluationSettings {
  const parsed = EvaluationSettings.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure(
      'job_invalid_params',
      `${issue?.path.join('.') || 'settings'}: ${issue?.message ?? 'invalid'}`,
      {
        issues: parsed.error.issues,
      },
    );
  }
  return parsed.data;
}

/** `samples` responses to every prompt from one checkpoint, `batchSize` prompts per generate call. */
async function sampleCheckpoint(
  checkpointIndex: number,
  checkpoint: CheckpointSpec,
  prompts: readonly (readonly ChatMessage[])[],
  settings: EvaluationSettings,
  signal: AbortSignal | undefined,
  onBatch: (count: number, threads: number) => void,
): Promise<Response[]> {
  const tokenizer = await loadOptionalTokenizer(checkpoint.folder);
  if (tokenizer === null) {
    throw new AppFailure(
      'model_tokenizer_missing',
      `${checkpoint.folder} has no tokenizer, so prompts cannot be encoded.`,
    );
  }
  const model = await loadHfModel(checkpoint.folder, { trainable: false });
  // Both cores decode each batch (rows split; the same tokens as one thread).
  const pool = await createGenerationPool(model);
  try {
    const { sampling, samples } = settings;
    const responses: Response[] = [];
    for (let start = 0; start < prompts.length; start += sampling.batchSize) {
      if (signal?.aborted) throw signal.reason ?? new AppFailure('job_cancelled');
      const indices = Array.from({ length: Math.min(sampling.batchSize, prompts.length - start) }, (_, i) => start + i);
      const rows = indices.flatMap((prompt) => Array.from({ length: samples }, (_, sample) => ({ prompt, sample })));
      const ids = rows.map(({ prompt }) => promptIds(tokenizer, prompts[prompt] as ChatMessage[]));
      const results = await generate(model, tokenizer, ids, {
        temperature: sampling.temperature,
        topP: sampling.topP,
        topK: sampling.topK,
        maxNewTokens: sampling.maxNewTokens,
        // The same seed per batch for every checkpoint: sample k of a prompt draws the same numbers.
        seed: new Random(settings.seed, start).nextUint32(),
        ...(signal ? { signal } : {}),
        pool,
      });
      results.forEach((result, row) => {
        const { prompt, sample } = rows[row] as { prompt: number; sample: number };
        responses.push({
          checkpoint: checkpointIndex,
          prompt,
          sample,
          text: result.text,
          finishReason: result.finishReason,
          tokens: result.tokens.length,
          reward: 0,
          gold: null,
        });
      });
      onBatch(rows.length, pool.threads);
    }
    return responses;
  } finally {
    await pool.close();
    model.dispose();
  }
}

/** A conversation with the generation prompt, encoded as the model job does (the template writes BOS). */
function promptIds(tokenizer: Tokenizer, messages: readonly ChatMessage[]): number[] {
  const format = tokenizer.chatFormat ?? {
    template: DEFAULT_CHAT_TEMPLATE,
    eosToken: tokenizer.specialTokens.eos?.content ?? null,
  };
  return tokenizer.encode(applyChatTemplate(messages, { ...format, addGenerationPrompt: true }), {
    addSpecialTokens: false,
  });
}

/** Calls a reward function over the responses in batches and checks what it returns. */
async function scoreAll(
  responses: readonly Response[],
  prompts: readonly (readonly ChatMessage[])[],
  reward: RewardFunction,
  batchSize: number,
  checkCancelled: () => void,
  onBatch: (batch: readonly Response[], values: number[]) => void,
): Promise<void> {
  for (let start = 0; start < responses.length; start += batchSize) {
    checkCancelled();
    const batch = responses.slice(start, start + batchSize);
    const values = await reward(
      batch.map((response) => prompts[response.prompt] as ChatMessage[]),
      batch.map((response) => response.text),
    );
    if (values.length !== batch.length || !values.every(Number.isFinite)) {
      throw new AppFailure(
        'internal_error',
        `The reward function returned ${values.length} values for ${batch.length} responses, or a non-finite one.`,
      );
    }
    onBatch(batch, values);
  }
}

/** Embeddings of every response, from the embedder given, a model folder, or hashed n-grams. */
/** Each distinct text once: the index of its first occurrence, and for every text its distinct text's position. */
export interface DistinctTexts {
  first: number[];
  slot: number[];
}

export function distinctTexts(texts: readonly string[]): DistinctTexts {
  const positions = new Map<string, number>();
  const first: number[] = [];
  const slot = texts.map((text, index) => {
    let position = positions.get(text);
    if (position === undefined) {
      position = first.length;
      positions.set(text, position);
      first.push(index);
    }
    return position;
  });
  return { first, slot };
}

async function embedResponses(
  texts: readonly string[],
  distinct: DistinctTexts,
  settings: EvaluationSettings,
  checkpoints: readonly CheckpointSpec[],
  embedder: TextEmbedder | undefined,
  signal: AbortSignal | undefined,
): Promise<number[][]> {
  if (embedder) return embedder(texts, signal);
  const source = settings.embedding;
  if (source.kind === 'hashed') return hashedTfidfEmbeddings(texts, source);
  const folder = source.folder ?? (checkpoints[0] as CheckpointSpec).folder;
  const embeddingOptions = { batchSize: source.batchSize, maxLength: source.maxLength, ...(signal ? { signal } : {}) };
  // A model embeds each distinct text once (a text's vector does not depend on the others'); the
  // copies share it. (The hashed TF-IDF above takes every copy: its idf counts them.)
  const unique = distinct.first.map((index) => texts[index] as string);
  const expand = (vectors: number[][]) => distinct.slot.map((position) => vectors[position] as number[]);
  if (await isRewardModelFolder(folder)) {
    const rewardModel = await loadRewardModel(folder);
    try {
      return expand(await modelEmbeddings(rewardModel.backbone, rewardModel.tokenizer, unique, embeddingOptions));
    } finally {
      rewardModel.dispose();
    }
  }
  const tokenizer = await loadOptionalTokenizer(folder);
  if (tokenizer === null) {
    throw new AppFailure('model_tokenizer_missing', `${folder} has no tokenizer, so responses cannot be embedded.`);
  }
  const model = await loadHfModel(folder, { trainable: false });
  try {
    return expand(await modelEmbeddings(model, tokenizer, unique, embeddingOptions));
  } finally {
    model.dispose();
  }
}

async function isRewardModelFolder(folder: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as { architectures?: unknown };
    return (
      Array.isArray(json.architectures) &&
      json.architectures.some((name) => /ForSequenceClassification$/.test(String(name)))
    );
  } catch {
    return false;
  }
}

/** `checkpoint` against `opponent`: paired samples, bootstrap over prompts (a prompt's samples stay together). */
function pairwiseWinRate(
  checkpoint: number,
  opponent: number,
  responses: readonly Response[],
  promptCount: number,
  settings: EvaluationSettings,
): WinRate {
  const key = (response: Response) => `${response.prompt}:${response.sample}`;
  const opponents = new Map(
    responses.filter((response) => response.checkpoint === opponent).map((response) => [key(response), response]),
  );
  const byPrompt: Comparison[][] = Array.from({ length: promptCount }, () => []);
  for (const response of responses) {
    if (response.checkpoint !== checkpoint) continue;
    const other = opponents.get(key(response));
    if (other === undefined) continue;
    (byPrompt[response.prompt] as Comparison[]).push({
      reward: response.reward,
      opponentReward: other.reward,
      length: response.text.length,
      opponentLength: other.text.length,
    });
  }
  return pairedWinRate(
    checkpoint,
    opponent,
    byPrompt,
    settings.winRate,
    new Random(settings.seed, checkpoint).nextUint32(),
  );
}

/** The §5.3 map over every response: projection, reward-weighted density, region, shares. */
function rewardMap(
  responses: readonly Response[],
  embeddings: readonly number[][],
  distinct: DistinctTexts,
  isHigh: (response: Response) => boolean,
  checkpointCount: number,
  settings: EvaluationSettings,
  embedding: RewardMap['embedding'],
): RewardMap {
  // Each distinct response is projected once and its copies share its point: UMAP's cost grows with
  // the points, and identical vectors would only crowd each other's neighbour lists. The density
  // still counts every copy.
  const vectors = distinct.first.map((index) => embeddings[index] as number[]);
  const projected = projectTo2d(vectors, {
    method: settings.projection,
    neighbors: settings.map.neighbors,
    seed: settings.seed,
  });
  const method = projected.method;
  const points = distinct.slot.map((position) => projected.points[position] as [number, number]);
  // Density weights must be non-negative: rewards min-max scaled to [0, 1] (all 1 when equal).
  const rewards = responses.map((response) => response.reward);
  const low = Math.min(...rewards);
  const high = Math.max(...rewards);
  const weights = rewards.map((reward) => (high > low ? (reward - low) / (high - low) : 1));
  const grid = weightedDensity(points, weights, settings.map.gridSize, settings.map.bandwidth);
  const region = highDensityRegion(grid.density, settings.map.regionMass);
  const groups = Array.from({ length: checkpointCount }, (_, checkpoint) => ({
    checkpoint,
    points: responses.flatMap((response, index) =>
      response.checkpoint === checkpoint && isHigh(response) ? [points[index] as [number, number]] : [],
    ),
  }));
  return {
    projection: method,
    embedding,
    bounds: grid.bounds,
    gridSize: grid.gridSize,
    bandwidth: grid.bandwidth,
    density: grid.density,
    region,
    regionMass: settings.map.regionMass,
    points: responses.map((response, index) => ({
      checkpoint: response.checkpoint,
      prompt: response.prompt,
      sample: response.sample,
      x: (points[index] as [number, number])[0],
      y: (points[index] as [number, number])[1],
      reward: response.reward,
      highReward: isHigh(response),
    })),
    shares: regionShares(grid, region, groups),
  };
}

/**
 * Evaluation of checkpoints (drift-paper.md §5): reward statistics on held-out prompts, win rates
 * against the first checkpoint with bootstrap intervals and a length-controlled variant, the
 * diversity of high-reward outputs, and the reward-weighted map of §5.3 (each method's share of the
 * global high-reward region). One settings schema with its defaults, one result schema; the engine
 * (engine/eval/evaluate.ts), a later eval job, the CLI and the Compare view all read these.
 */
import { z } from 'zod';
import { Id, ModelEntry } from './schemas.js';

/** How responses are sampled from each checkpoint (the same seeds for every checkpoint). */
export const EvaluationSampling = z
  .object({
    temperature: z.number().min(0).max(5).default(0.7),
    topP: z.number().gt(0).max(1).default(0.9),
    topK: z.number().int().min(0).default(0),
    maxNewTokens: z.number().int().positive().max(4096).default(64),
    /** Prompts generated together (each repeated `samples` times in the batch). */
    batchSize: z.number().int().positive().max(256).default(8),
  })
  .strict();
export type EvaluationSampling = z.infer<typeof EvaluationSampling>;

/**
 * Which outputs count as high-reward: those at or above a quantile of the rewards of every
 * checkpoint pooled (so "high" means the same for every method), or at or above a fixed reward.
 */
export const HighRewardRule = z.union([
  z.object({ kind: z.literal('quantile'), quantile: z.number().min(0).max(1).default(0.75) }).strict(),
  z.object({ kind: z.literal('threshold'), value: z.number() }).strict(),
]);
export type HighRewardRule = z.infer<typeof HighRewardRule>;

/**
 * What responses are embedded with: `hashed` is model-free (character n-gram TF-IDF hashed into
 * `dimensions` buckets); `model` mean-pools the last hidden state of a model folder (default: the
 * first checkpoint's).
 */
export const EmbeddingSource = z.union([
  z
    .object({
      kind: z.literal('hashed'),
      dimensions: z.number().int().min(16).max(65536).default(2048),
      /** Character n-gram length. */
      ngram: z.number().int().min(1).max(8).default(3),
    })
    .strict(),
  z
    .object({
      kind: z.literal('model'),
      folder: z.string().min(1).optional(),
      batchSize: z.number().int().positive().max(256).default(16),
      maxLength: z.number().int().min(2).max(32768).default(256),
    })
    .strict(),
]);
export type EmbeddingSource = z.infer<typeof EmbeddingSource>;

export const ProjectionMethod = z.enum(['umap', 'pca']);
export type ProjectionMethod = z.infer<typeof ProjectionMethod>;

/** The reward-weighted map of §5.3; the paper leaves bandwidth and threshold unstated ([U]), so they are parameters. */
export const RewardMapSettings = z
  .object({
    /** Cells per side of the density grid. */
    gridSize: z.number().int().min(4).max(256).default(48),
    /** Gaussian KDE bandwidth in map units; null: Scott's rule (σ̄ · n^(−1/6) in 2-D). */
    bandwidth: z.number().positive().nullable().default(null),
    /** The high-reward region: the densest cells that together hold this share of the reward-weighted density. */
    regionMass: z.number().gt(0).max(1).default(0.5),
    /** UMAP's n_neighbors (capped at the number of points − 1). */
    neighbors: z.number().int().min(2).max(200).default(15),
  })
  .strict();
export type RewardMapSettings = z.infer<typeof RewardMapSettings>;

export const WinRateSettings = z
  .object({
    /** Rewards closer than this are a tie (0: only equal rewards tie, as a 0/1 checker's often do). */
    tieMargin: z.number().min(0).default(0),
    /** Bootstrap resamples of the prompts (a prompt's samples stay together). */
    bootstrapSamples: z.number().int().min(100).max(100000).default(1000),
    confidence: z.number().gt(0.5).lt(1).default(0.95),
  })
  .strict();
export type WinRateSettings = z.infer<typeof WinRateSettings>;

export const EvaluationSettings = z
  .object({
    /** Samples per prompt per checkpoint. */
    samples: z.number().int().positive().max(64).default(4),
    sampling: EvaluationSampling.default(EvaluationSampling.parse({})),
    /** Responses per call of the reward function. */
    rewardBatchSize: z.number().int().positive().max(1024).default(16),
    highReward: HighRewardRule.default({ kind: 'quantile', quantile: 0.75 }),
    /** Diversity metrics read at most this many high-reward outputs per checkpoint (a seeded subsample). */
    diversitySampleLimit: z.number().int().min(2).max(5000).default(256),
    embedding: EmbeddingSource.default({ kind: 'hashed', dimensions: 2048, ngram: 3 }),
    projection: ProjectionMethod.default('umap'),
    map: RewardMapSettings.default(RewardMapSettings.parse({})),
    winRate: WinRateSettings.default(WinRateSettings.parse({})),
    /** Seeds sampling, subsampling, the bootstrap and UMAP. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();
export type EvaluationSettings = z.infer<typeof EvaluationSettings>;
export type EvaluationSettingsInput = z.input<typeof EvaluationSettings>;

export const EvaluationMessage = z.object({ role: z.string(), content: z.string() });
export type EvaluationMessage = z.infer<typeof EvaluationMessage>;

/** Order statistics of a list of rewards. */
export const RewardSummary = z.object({
  count: z.number().int().nonnegative(),
  mean: z.number(),
  std: z.number(),
  min: z.number(),
  p10: z.number(),
  p25: z.number(),
  median: z.number(),
  p75: z.number(),
  p90: z.number(),
  max: z.number(),
});
export type RewardSummary = z.infer<typeof RewardSummary>;

/** The gold success of the samples of one group of prompts (e.g. one kind of simulated task). */
export const GoldGroup = z.object({
  group: z.string(),
  samples: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
});
export type GoldGroup = z.infer<typeof GoldGroup>;

/** The gold checker's verdicts (1 success, 0 failure): their mean, and the share above 0.5. */
export const GoldSummary = z.object({
  mean: z.number(),
  successRate: z.number().min(0).max(1),
  /** By prompt group, where the prompts have groups (simulated tasks: by kind); sorted by name. */
  byGroup: z.array(GoldGroup).optional(),
});
export type GoldSummary = z.infer<typeof GoldSummary>;

/** Diversity of a set of outputs; null where the set is too small (under 2 outputs for pairwise metrics). */
export const DiversityMetrics = z.object({
  /** Outputs the metrics read. */
  count: z.number().int().nonnegative(),
  /** Distinct unigrams / all unigrams over the set (Li et al. 2016). */
  distinct1: z.number().nullable(),
  distinct2: z.number().nullable(),
  /** Mean BLEU-4 of each output against all others (Zhu et al. 2018, Texygen); lower is more diverse. */
  selfBleu: z.number().nullable(),
  /** Mean 1 − cos over pairs of embeddings. */
  meanCosineDistance: z.number().nullable(),
  /** exp(entropy of the eigenvalues of K/n), K the cosine similarity matrix (Friedman and Dieng 2023). */
  vendiScore: z.number().nullable(),
});
export type DiversityMetrics = z.infer<typeof DiversityMetrics>;

export const EvaluationSample = z.object({
  prompt: z.number().int().nonnegative(),
  sample: z.number().int().nonnegative(),
  text: z.string(),
  reward: z.number(),
  gold: z.number().nullable(),
  highReward: z.boolean(),
  finishReason: z.enum(['eos', 'stop', 'length']),
  tokens: z.number().int().nonnegative(),
});
export type EvaluationSample = z.infer<typeof EvaluationSample>;

export const CheckpointEvaluation = z.object({
  label: z.string(),
  folder: z.string(),
  rewards: RewardSummary,
  /** Counts per bin of the result's `histogramEdges` (shared by all checkpoints). */
  histogram: z.array(z.number().int().nonnegative()),
  gold: GoldSummary.nullable(),
  highRewardCount: z.number().int().nonnegative(),
  /** Of the high-reward outputs. */
  diversity: DiversityMetrics,
  samples: z.array(EvaluationSample),
});
export type CheckpointEvaluation = z.infer<typeof CheckpointEvaluation>;

export const ConfidenceInterval = z.object({ low: z.number(), high: z.number() });
export type ConfidenceInterval = z.infer<typeof ConfidenceInterval>;

/**
 * `checkpoint` against `opponent` (indices into `checkpoints`): sample k of a prompt against the
 * opponent's sample k of the same prompt; a tie counts half.
 */
export const WinRate = z.object({
  checkpoint: z.number().int().nonnegative(),
  opponent: z.number().int().nonnegative(),
  wins: z.number().int().nonnegative(),
  ties: z.number().int().nonnegative(),
  losses: z.number().int().nonnegative(),
  winRate: z.number().min(0).max(1),
  interval: ConfidenceInterval,
  /**
   * AlpacaEval-LC style: logit P(win) = a + b · tanh(Δlength / sd(Δlength)), fitted on the
   * comparisons; the length-controlled win rate is σ(a), the win rate at equal length.
   */
  lengthControlled: z.object({
    winRate: z.number().min(0).max(1),
    interval: ConfidenceInterval,
    lengthCoefficient: z.number(),
  }),
});
export type WinRate = z.infer<typeof WinRate>;

export const MapPoint = z.object({
  checkpoint: z.number().int().nonnegative(),
  prompt: z.number().int().nonnegative(),
  sample: z.number().int().nonnegative(),
  x: z.number(),
  y: z.number(),
  reward: z.number(),
  highReward: z.boolean(),
});
export type MapPoint = z.infer<typeof MapPoint>;

/** A checkpoint's part in the global high-reward region. */
export const RegionShare = z.object({
  checkpoint: z.number().int().nonnegative(),
  highRewardPoints: z.number().int().nonnegative(),
  /** Share of the checkpoint's high-reward points that lie in the region. */
  pointShare: z.number().min(0).max(1),
  /** Share of the region's density within one bandwidth of one of the checkpoint's high-reward points. */
  coverage: z.number().min(0).max(1),
});
export type RegionShare = z.infer<typeof RegionShare>;

/** The 2-D picture of §5.3: every response projected, a reward-weighted KDE on a grid, the high-reward region. */
export const RewardMap = z.object({
  projection: ProjectionMethod,
  embedding: z.enum(['hashed', 'model']),
  bounds: z.object({ xMin: z.number(), xMax: z.number(), yMin: z.number(), yMax: z.number() }),
  gridSize: z.number().int().positive(),
  bandwidth: z.number().positive(),
  /** gridSize² values summing to 1, row-major: cell (column i, row j) is density[j · gridSize + i], row 0 at yMin. */
  density: z.array(z.number()),
  /** Indices into `density` of the high-reward region's cells. */
  region: z.array(z.number().int().nonnegative()),
  regionMass: z.number(),
  points: z.array(MapPoint),
  shares: z.array(RegionShare),
});
export type RewardMap = z.infer<typeof RewardMap>;

export const EvaluationResult = z.object({
  version: z.literal(1),
  settings: EvaluationSettings,
  prompts: z.array(z.array(EvaluationMessage)),
  /** The reward at or above which an output is high-reward. */
  highRewardThreshold: z.number(),
  /** Bin edges of every checkpoint's reward histogram. */
  histogramEdges: z.array(z.number()),
  /** In the order given; the first is the base every win rate compares against. */
  checkpoints: z.array(CheckpointEvaluation),
  winRates: z.array(WinRate),
  /** Null with fewer than 3 responses. */
  map: RewardMap.nullable(),
  seconds: z.number().nonnegative(),
});
export type EvaluationResult = z.infer<typeof EvaluationResult>;

/* ------------------------------------------------------------------ evaluation jobs and stored results */

/** A checkpoint an `eval.run` job evaluates: a workspace model, named as results show it. */
export const EvaluationCheckpointSpec = z
  .object({
    label: z.string().min(1).max(200),
    modelId: Id,
    /** The method that made it (a run's method, `base`, or free text); colours the charts. */
    method: z.string().min(1).max(64).default('model'),
    /** The run it comes from, if any. */
    runId: Id.optional(),
  })
  .strict();
export type EvaluationCheckpointSpec = z.infer<typeof EvaluationCheckpointSpec>;

/**
 * Where the held-out prompts come from. `pair-set`: the DSAT contexts of a pair set's held-out
 * split, the first min(testSize, ⌊testFraction · pairs⌋) usable pairs as the preference runs hold
 * them out (or every pair with `split: 'all'`), distinct contexts, at most `count`. `sim`: held-out
 * tasks of the simulated deployment (engine/sim), whose checker gives a gold verdict.
 */
export const EvaluationPromptSource = z.union([
  z
    .object({
      kind: z.literal('pair-set'),
      pairSet: z.string().min(1).max(200),
      split: z.enum(['held-out', 'all']).default('held-out'),
      testSize: z.number().int().min(0).max(100000).default(100),
      testFraction: z.number().min(0).max(0.9).default(0.2),
      count: z.number().int().positive().max(10000).default(64),
    })
    .strict(),
  z
    .object({
      kind: z.literal('sim'),
      count: z.number().int().positive().max(10000).default(64),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(0),
    })
    .strict(),
]);
export type EvaluationPromptSource = z.infer<typeof EvaluationPromptSource>;

/**
 * What judges the responses: a reward model (a workspace model, or a local HF
 * `*ForSequenceClassification` folder by absolute path), or the gold checker where the prompts
 * have one (the simulated deployment's tasks).
 */
export const EvaluationRewardSpec = z.union([
  z.object({ kind: z.literal('reward-model'), modelId: Id }).strict(),
  z.object({ kind: z.literal('reward-model'), folder: z.string().min(1).max(4096) }).strict(),
  z.object({ kind: z.literal('gold') }).strict(),
]);
export type EvaluationRewardSpec = z.infer<typeof EvaluationRewardSpec>;

/** job:start params of `eval.run`: writes `<workspace>/evaluations/<id>/` (result.json, meta.json). */
export const EvalRunParams = z
  .object({
    /** Default: from the time; an existing evaluation with this id is refused. */
    id: Id.optional(),
    title: z.string().min(1).max(200).optional(),
    /** The first is the base of the result's win rates. */
    checkpoints: z.array(EvaluationCheckpointSpec).min(1).max(16),
    prompts: EvaluationPromptSource,
    reward: EvaluationRewardSpec,
    settings: EvaluationSettings.default(EvaluationSettings.parse({})),
  })
  .strict();
export type EvalRunParams = z.input<typeof EvalRunParams>;

/** One checkpoint's headline numbers (for lists and the CLI). */
export const EvaluationSummaryRow = z.object({
  label: z.string(),
  meanReward: z.number(),
  goldSuccess: z.number().nullable(),
  /** Against the first checkpoint; null for the first. */
  winRate: z.number().nullable(),
  vendiScore: z.number().nullable(),
});
export type EvaluationSummaryRow = z.infer<typeof EvaluationSummaryRow>;

/** `<workspace>/evaluations/<id>/meta.json`: what `eval:list` shows without reading the result. */
export const EvaluationMeta = z.object({
  id: Id,
  title: z.string(),
  createdAt: z.string(),
  checkpoints: z.array(EvaluationCheckpointSpec.extend({ method: z.string() })),
  prompts: EvaluationPromptSource,
  promptCount: z.number().int().nonnegative(),
  reward: EvaluationRewardSpec,
  /** Whether samples carry a gold verdict. */
  gold: z.boolean(),
  samples: z.number().int().positive(),
  seconds: z.number().nonnegative(),
  summary: z.array(EvaluationSummaryRow),
});
export type EvaluationMeta = z.infer<typeof EvaluationMeta>;

/** What an `eval.run` job returns. */
export const EvalRunResult = z.object({ id: Id, folder: z.string(), meta: EvaluationMeta });
export type EvalRunResult = z.infer<typeof EvalRunResult>;

/** `eval:responses`: the responses behind a chart mark, paged; filters combine. */
export const EvalResponsesRequest = z
  .object({
    id: Id,
    checkpoint: z.number().int().nonnegative(),
    /** Each row then carries this checkpoint's response to the same prompt and sample. */
    opponent: z.number().int().nonnegative().optional(),
    prompt: z.number().int().nonnegative().optional(),
    sample: z.number().int().nonnegative().optional(),
    /** Rewards in [minReward, maxReward) (maxReward inclusive when it is the top edge). */
    minReward: z.number().optional(),
    maxReward: z.number().optional(),
    highReward: z.boolean().optional(),
    /** Against `opponent`: only comparisons with this outcome. */
    outcome: z.enum(['win', 'tie', 'loss']).optional(),
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(500).default(50),
  })
  .strict();
export type EvalResponsesRequest = z.input<typeof EvalResponsesRequest>;

export const EvaluationResponseRow = EvaluationSample.extend({
  checkpoint: z.number().int().nonnegative(),
  messages: z.array(EvaluationMessage),
  opponent: EvaluationSample.extend({ checkpoint: z.number().int().nonnegative() }).nullable(),
});
export type EvaluationResponseRow = z.infer<typeof EvaluationResponseRow>;

export const EvalResponsesResponse = z.object({
  total: z.number().int().nonnegative(),
  rows: z.array(EvaluationResponseRow),
});
export type EvalResponsesResponse = z.infer<typeof EvalResponsesResponse>;

/** job:start params of `reward.train`: a Bradley–Terry reward model on a pair set, saved as a workspace model. */
export const RewardTrainParams = z
  .object({
    /** The backbone: a workspace (causal LM) model; its weights start the reward model. */
    modelId: Id,
    pairSet: z.string().min(1).max(200),
    /**
     * `seed`: seed pairs' chosen (the answer that drew SAT) over their rejected (DSAT) response.
     * `sat-vs-dsat`: the dataset's SAT answers over DSAT responses — of the same conversation where
     * there is one, else of the same last user turn, else a seeded draw — under the DSAT context.
     */
    pairs: z
      .array(z.enum(['seed', 'sat-vs-dsat']))
      .min(1)
      .default(['seed']),
    name: z.string().min(1).max(200).optional(),
    epochs: z.number().int().positive().max(100).default(3),
    batchSize: z.number().int().positive().max(256).default(8),
    learningRate: z.number().positive().max(1).default(1e-4),
    heldOutFraction: z.number().min(0).max(0.9).default(0.2),
    maxLength: z.number().int().min(8).max(32768).default(512),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();
export type RewardTrainParams = z.input<typeof RewardTrainParams>;

/** What a `reward.train` job returns (its completion adds `entry`, role `reward`, to the catalog). */
export const RewardTrainResult = z.object({
  modelId: Id,
  name: z.string(),
  folder: z.string(),
  pairSet: z.string(),
  /** Pairs made by each source. */
  pairCounts: z.object({ seed: z.number().int().nonnegative(), satVsDsat: z.number().int().nonnegative() }),
  trainPairs: z.number().int().nonnegative(),
  heldOutPairs: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  finalLoss: z.number(),
  trainAccuracy: z.number(),
  /** Share of held-out pairs the model ranks right (ties half); null when none were held out. */
  heldOutAccuracy: z.number().nullable(),
  entry: ModelEntry.optional(),
});
export type RewardTrainResult = z.infer<typeof RewardTrainResult>;

/**
 * Preference-training runs: DRIFT, its baselines (iterative DPO, SPIN, offline DPO) and their
 * stored artefacts. One config schema shared by the engine (run.train job), the CLI
 * (`drift-wb run`), the Runs view and the TRL export. Defaults follow drift-paper.md §3 where it
 * is sourced ([V]); the rest are parameters with defaults suited to the workbench's small models
 * (each marked "inferred" or "small-model" below, and listed as deviations in run.json).
 */
import { z } from 'zod';
import { Id, RunStatus } from './schemas.js';

/** drift: y+ sampled (guided) from π(k−1), y− the logged DSAT response. spin: y+ the logged SAT answer, y− an unguided policy sample. iterdpo: n policy samples ranked by a judge, best vs worst. dpo: offline DPO on the pair set's seed pairs. */
export const PreferenceMethod = z.enum(['drift', 'iterdpo', 'spin', 'dpo']);
export type PreferenceMethod = z.infer<typeof PreferenceMethod>;

/** sigmoid: DPO (Rafailov et al.); ipo: (h − 1/(2β))²; kto: KTO's paired form with a batch KL baseline. */
export const PreferenceLossType = z.enum(['sigmoid', 'ipo', 'kto']);
export type PreferenceLossType = z.infer<typeof PreferenceLossType>;

export const PreferenceHyperparameters = z
  .object({
    loss: PreferenceLossType.default('sigmoid'),
    /** [V] β = 0.1. */
    beta: z.number().positive().max(100).default(0.1),
    /** [V] rpo_alpha = 0.001: weight of the NLL of the chosen completion (per token mean) added to the loss. 0 turns it off. */
    rpoAlpha: z.number().min(0).max(100).default(0.001),
    /** KTO only: weights of desirable / undesirable terms. */
    ktoDesirableWeight: z.number().positive().default(1),
    ktoUndesirableWeight: z.number().positive().default(1),
    /** [V] RMSprop (adamw_torch commented out in the configs). */
    optimizer: z.enum(['rmsprop', 'adamw']).default('rmsprop'),
    /** small-model: the paper's 5e-7 is for 7B models; a 1-10M-parameter model needs a larger rate. */
    learningRate: z.number().positive().max(1).default(5e-5),
    /** [V] linear with warmup_ratio 0.1. */
    schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
    warmupRatio: z.number().min(0).max(1).default(0.1),
    weightDecay: z.number().min(0).max(1).default(0),
    /** [V] per-device batch 4, accumulation 1. */
    batchSize: z.number().int().positive().max(512).default(4),
    gradientAccumulation: z.number().int().positive().max(512).default(1),
    /** TRL's TrainingArguments default. */
    maxGradNorm: z.number().min(0).default(1),
    /** [V] max_length 2048 / max_prompt_length 1024 for 7B models; small-model defaults here. */
    maxLength: z.number().int().positive().max(32768).default(512),
    maxPromptLength: z.number().int().positive().max(32768).default(384),
    /** [V] seed warm start: 3 epochs; every iteration: 1 epoch. */
    seedEpochs: z.number().int().min(0).max(100).default(3),
    iterationEpochs: z.number().int().positive().max(100).default(1),
  })
  .strict();
export type PreferenceHyperparameters = z.infer<typeof PreferenceHyperparameters>;

export const SampleSelection = z.enum(['none', 'judge-best', 'longest', 'shortest']);
export type SampleSelection = z.infer<typeof SampleSelection>;

/** How on-policy responses are sampled (y+ for DRIFT, y− for SPIN, candidates for IterDPO). */
export const RunGeneration = z
  .object({
    /** [V] DRIFT samples from the guided prompt of gen-drift.py (context, y−, feedback, instruction); false: the plain context (the paper's Unguided ablation). */
    guided: z.boolean().default(true),
    /**
     * How the guided prompt is written. plain: gen-drift.py's text verbatim (`User:`/`Assistant:` lines, no
     * chat template) [V]. chat: the same content as turns in the model's own chat template (the context,
     * y− as an assistant turn, the feedback as a user turn, the instruction as a system turn), for small
     * chat models that never saw the plain layout.
     */
    guidedFormat: z.enum(['plain', 'chat']).default('plain'),
    /** [V] T 0.7, top-p 0.9. */
    temperature: z.number().min(0).max(5).default(0.7),
    topP: z.number().gt(0).max(1).default(0.9),
    topK: z.number().int().min(0).default(0),
    /** [V] 512 for 7B models; small-model default. */
    maxNewTokens: z.number().int().positive().max(4096).default(64),
    /** [V] one sample per prompt; more samples need a selection rule. */
    samples: z.number().int().positive().max(16).default(1),
    selection: SampleSelection.default('none'),
    /** Prompts generated together (padded batch with a KV cache). [V] 16. */
    batchSize: z.number().int().positive().max(256).default(16),
  })
  .strict();
export type RunGeneration = z.infer<typeof RunGeneration>;

/** IterDPO's judge [U in the paper]: the policy's own length-normalised likelihood, or a reward model. */
export const RunJudge = z.union([
  z.object({ kind: z.literal('likelihood') }).strict(),
  z.object({ kind: z.literal('reward-model'), modelId: Id }).strict(),
]);
export type RunJudge = z.infer<typeof RunJudge>;

export const RunConfig = z
  .object({
    name: z.string().min(1).max(200),
    method: PreferenceMethod,
    /** The base policy: a workspace model id. */
    baseModelId: Id,
    /** The pair set (`name` or `name@vK`) the DSAT records, seed pairs and SAT answers come from. */
    pairSet: z.string().min(1).max(200),
    /** [V] K = 2 in the main results. */
    iterations: z.number().int().min(0).max(20).default(2),
    /** DPO on the seed (DSAT→SAT) pairs first, reference = the base model. Default on for every method (inferred for the baselines). */
    seedWarmStart: z.boolean().default(true),
    /** [V] the first 100 pairs of each iteration are held out (not shuffled); capped at testFraction of the pairs for small sets. */
    testSize: z.number().int().min(0).max(100000).default(100),
    testFraction: z.number().min(0).max(0.9).default(0.2),
    /** Use only the first N usable records of the pair set (the paper's "Controlled" setting trains on a subset); 0: all. */
    maxRecords: z.number().int().min(0).default(0),
    /** IterDPO: candidates per prompt (≥ 2). */
    candidates: z.number().int().min(2).max(16).default(2),
    judge: RunJudge.default({ kind: 'likelihood' }),
    hyperparameters: PreferenceHyperparameters.default(PreferenceHyperparameters.parse({})),
    generation: RunGeneration.default(RunGeneration.parse({})),
    /** [V] 42. Data order, sampling and initialisation all derive from it. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    /** Optimizer steps between mid-iteration checkpoints (the end of each phase always gets one). */
    checkpointEvery: z.number().int().positive().default(50),
  })
  .strict();
export type RunConfig = z.infer<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** job:start params of `run.train`: a new run from a config, or an existing run resumed. */
export const RunTrainParams = z.union([
  z.object({ config: RunConfig, runId: Id.optional() }).strict(),
  z.object({ runId: Id, resume: z.literal(true) }).strict(),
]);
export type RunTrainParams = z.input<typeof RunTrainParams>;

/** Phase 0 is the seed warm start; phase k ≥ 1 is iteration k. */
export const RunPhase = z.enum(['seed', 'generate', 'reference', 'train', 'evaluate', 'done']);
export type RunPhase = z.infer<typeof RunPhase>;

/** Summary of σ(−s), each pair's DPO gradient weight (s = the β-scaled margin of log-ratios). */
export const GradientWeightSummary = z.object({
  mean: z.number(),
  p10: z.number(),
  p50: z.number(),
  p90: z.number(),
  /** Counts in 10 equal bins over [0, 1]. */
  histogram: z.array(z.number().int().nonnegative()).length(10),
});
export type GradientWeightSummary = z.infer<typeof GradientWeightSummary>;

/** One line of metrics.jsonl: a training step (TRL's metric names) or an evaluation on the held-out split. */
export const RunMetricRow = z.object({
  type: z.enum(['train', 'eval']),
  /** 0: the seed warm start; k: iteration k. */
  iteration: z.number().int().nonnegative(),
  /** Optimizer steps of the whole run so far. */
  step: z.number().int().nonnegative(),
  epoch: z.number().nonnegative(),
  loss: z.number(),
  'rewards/chosen': z.number(),
  'rewards/rejected': z.number(),
  'rewards/margins': z.number(),
  'rewards/accuracies': z.number(),
  'logps/chosen': z.number(),
  'logps/rejected': z.number(),
  /** Mean per-token log-ratio log π/π_ref over the batch's completions: an estimate of the KL to the reference. */
  kl: z.number(),
  grad_norm: z.number().optional(),
  learning_rate: z.number().optional(),
  gradientWeight: GradientWeightSummary,
  seconds: z.number().nonnegative(),
  time: z.string(),
});
export type RunMetricRow = z.infer<typeof RunMetricRow>;

/** One line of samples.jsonl: an on-policy response sampled in an iteration. */
export const RunSampleRow = z.object({
  iteration: z.number().int().positive(),
  /** The DSAT pair (or SAT record) it was sampled for. */
  sourceId: z.string(),
  /** What it became: DRIFT's chosen, SPIN's rejected, an IterDPO candidate. */
  role: z.enum(['chosen', 'rejected', 'candidate']),
  /** The text the model continued (the guided prompt for DRIFT). */
  prompt: z.string(),
  completion: z.string(),
  finishReason: z.enum(['eos', 'stop', 'length']),
  /** The judge's score where one ranked it. */
  score: z.number().nullable(),
});
export type RunSampleRow = z.infer<typeof RunSampleRow>;

export const PairTurn = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
export type PairTurn = z.infer<typeof PairTurn>;

/** One line of iter-<k>/pairs.jsonl: TRL's conversational preference format plus where it came from. */
export const RunPairRow = z.object({
  id: z.string(),
  sourceId: z.string(),
  split: z.enum(['train', 'test']),
  prompt: z.array(PairTurn),
  chosen: z.array(PairTurn).length(1),
  rejected: z.array(PairTurn).length(1),
});
export type RunPairRow = z.infer<typeof RunPairRow>;

/** One finished phase of a run: its model and data. */
export const RunIterationSummary = z.object({
  iteration: z.number().int().nonnegative(),
  pairs: z.number().int().nonnegative(),
  trainPairs: z.number().int().nonnegative(),
  testPairs: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  /** The iteration's policy, registered as a workspace model. */
  modelId: z.string().nullable(),
  /** Held-out metrics after training (the last eval row). */
  eval: z.record(z.string(), z.number()).nullable(),
  finishedAt: z.string().nullable(),
});
export type RunIterationSummary = z.infer<typeof RunIterationSummary>;

export const RunDetail = z.object({
  id: Id,
  config: RunConfig,
  status: RunStatus,
  /** The job running it now, if any. */
  jobId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Where it is: the phase and iteration being worked on. */
  position: z.object({
    iteration: z.number().int().nonnegative(),
    phase: RunPhase,
    step: z.number().int().nonnegative(),
  }),
  iterations: z.array(RunIterationSummary),
  /** Deviations from the paper and other things a reader should know. */
  notes: z.array(z.string()),
  /** Backend, engine version, seeds: what a report needs to reproduce it. */
  environment: z.record(z.string(), z.string()),
  error: z.string().nullable(),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const RunTrainResult = z.object({
  runId: z.string(),
  status: RunStatus,
  iterations: z.array(RunIterationSummary),
  modelIds: z.array(z.string()),
});
export type RunTrainResult = z.infer<typeof RunTrainResult>;

/* ---------------------------------------------------------------- channels */

export const RunIdRequest = z.object({ id: Id }).strict();
export const RunMetricsRequest = z
  .object({
    id: Id,
    after: z.number().int().min(0).default(0),
    limit: z.number().int().positive().max(10000).default(2000),
  })
  .strict();
export const RunMetricsResponse = z.object({ rows: z.array(RunMetricRow), next: z.number().int().nonnegative() });
export const RunRowsRequest = z
  .object({
    id: Id,
    iteration: z.number().int().nonnegative().optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().positive().max(1000).default(100),
  })
  .strict();
export const RunSamplesResponse = z.object({ rows: z.array(RunSampleRow), total: z.number().int().nonnegative() });
export const RunPairsResponse = z.object({ rows: z.array(RunPairRow), total: z.number().int().nonnegative() });

/**
 * What a `run.train` job streams as `job:output` data, for live charts and the catalog:
 * `run-started` (a new or resumed run; `metricRows` is the metrics.jsonl row count after a resume
 * dropped the rows past its checkpoint, so a chart reloads from run:metrics with `after` 0 or keeps
 * its first `metricRows` points), one `run-metric` per metrics.jsonl row, `run-samples` per batch
 * of samples.jsonl rows, and `phase-finished` when a phase's model is saved (the host registers it).
 */
export const RunJobOutput = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run-started'),
    runId: z.string(),
    resumed: z.boolean(),
    metricRows: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('run-metric'), runId: z.string(), row: RunMetricRow }),
  z.object({ type: z.literal('run-samples'), runId: z.string(), rows: z.array(RunSampleRow) }),
  z.object({
    type: z.literal('phase-finished'),
    runId: z.string(),
    iteration: z.number().int().nonnegative(),
    modelId: z.string().nullable(),
  }),
]);
export type RunJobOutput = z.infer<typeof RunJobOutput>;

/**
 * The model jobs' side of the contract: the params of `model.import`, `model.generate` and
 * `model.train-sft` (started with `job:start`), the pieces they stream as `job:output` data, and
 * their results. The engine validates params with these schemas; the UI builds requests and reads
 * results with their types. Pure zod: no node:*, no electron, no DOM.
 */
import { z } from 'zod';
import { Id, ModelEntry, TokenizerSummary } from './schemas.js';

/** An absolute path, POSIX (`/…`) or Windows (`C:\…`, `\\server\…`). */
const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'must be an absolute path');

/** What a model folder holds (engine/model/store.ts reads it from config.json, the safetensors headers, the tokenizer). */
export const ModelSummary = z.object({
  /** HF class name, e.g. LlamaForCausalLM. */
  architecture: z.string(),
  /** HF model_type: llama, mistral, qwen2, qwen3, gpt2. */
  modelType: z.string(),
  /** Weights (a tied head counted once). */
  parameters: z.number().int().nonnegative(),
  /** The stored weights' dtype: float32, bfloat16, float16 (joined with + when mixed). */
  dtype: z.string(),
  vocabSize: z.number().int().nonnegative(),
  /** max_position_embeddings. */
  contextLength: z.number().int().nonnegative(),
  hiddenSize: z.number().int().nonnegative(),
  layers: z.number().int().nonnegative(),
  tokenizer: TokenizerSummary.nullable(),
  sizeBytes: z.number().int().nonnegative(),
  /** A policy (causal LM) or a reward model (`*ForSequenceClassification`); absent means policy. */
  role: z.enum(['policy', 'reward']).optional(),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

// ---------------------------------------------------------------------------------------------
// model.import

export const ModelImportParams = z
  .object({
    path: AbsolutePath,
    /** Display name; default: the folder's name. */
    name: z.string().min(1).max(200).optional(),
  })
  .strict();
export type ModelImportParams = z.input<typeof ModelImportParams>;

export const ModelImportResult = z.object({
  modelId: z.string(),
  name: z.string(),
  /** The imported folder. */
  source: z.string(),
  summary: ModelSummary,
  /** The catalog entry the host added. */
  entry: ModelEntry,
});
export type ModelImportResult = z.infer<typeof ModelImportResult>;

// ---------------------------------------------------------------------------------------------
// model.generate

export const ChatTurn = z.object({ role: z.string().min(1).max(64), content: z.string().max(1_000_000) });
export type ChatTurn = z.infer<typeof ChatTurn>;

/** Sampling settings (HF generate's names and defaults: temperature 1, top-k 0, top-p 1, min-p 0, penalty 1). */
export const SamplingParams = z.object({
  maxNewTokens: z.number().int().min(0).max(100_000).optional(),
  /** 0 is greedy. */
  temperature: z.number().min(0).max(100).optional(),
  topK: z.number().int().min(0).optional(),
  topP: z.number().gt(0).max(1).optional(),
  minP: z.number().min(0).max(1).optional(),
  repetitionPenalty: z.number().gt(0).max(100).optional(),
  stopStrings: z.array(z.string().min(1).max(1000)).max(32).optional(),
  seed: z.number().int().optional(),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

export const ModelGenerateParams = SamplingParams.extend({
  /** A workspace model id, or an absolute model folder. */
  model: z.string().min(1).max(4096),
  /** Text, or a conversation rendered with the model's chat template (ending with the assistant turn's opening). */
  prompts: z
    .array(z.union([z.string().max(1_000_000), z.array(ChatTurn).min(1).max(1000)]))
    .min(1)
    .max(256),
  /** Render text prompts as one user turn with the chat template. Default false. */
  chat: z.boolean().default(false),
}).strict();
export type ModelGenerateParams = z.input<typeof ModelGenerateParams>;

/** One generated token of row `row` (job:output data of model.generate). */
export const GenerateTokenOutput = z.object({
  type: z.literal('token'),
  row: z.number().int().nonnegative(),
  token: z.number().int().nonnegative(),
  /** The text this token completes: '' while a character or a possible stop string is incomplete. */
  text: z.string(),
});
export type GenerateTokenOutput = z.infer<typeof GenerateTokenOutput>;

export const ModelGenerateResult = z.object({
  completions: z.array(
    z.object({
      text: z.string(),
      finishReason: z.enum(['eos', 'stop', 'length']),
      promptTokens: z.number().int().nonnegative(),
      completionTokens: z.number().int().nonnegative(),
    }),
  ),
  /** Generated tokens, all rows. */
  tokens: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
});
export type ModelGenerateResult = z.infer<typeof ModelGenerateResult>;

// ---------------------------------------------------------------------------------------------
// model.train-sft

export const PRESET_NAMES = ['tiny', 'small'] as const;
export const ModelPreset = z.enum(PRESET_NAMES);
export type ModelPreset = z.infer<typeof ModelPreset>;

/** Hyperparameters a request may set; the rest take the engine's defaults (engine/train/sft.ts SFT_DEFAULTS). */
export const SftHyperparameterParams = z
  .object({
    epochs: z.number().int().positive().max(100_000),
    maxSteps: z.number().int().positive().nullable(),
    batchSize: z.number().int().positive().max(4096),
    gradientAccumulation: z.number().int().positive().max(4096),
    learningRate: z.number().positive().max(10),
    schedule: z.enum(['constant', 'linear', 'cosine']),
    warmupSteps: z.number().int().nonnegative(),
    minLearningRateRatio: z.number().min(0).max(1),
    optimizer: z.enum(['adamw', 'rmsprop']),
    weightDecay: z.number().min(0).max(10),
    maxGradNorm: z.number().min(0),
    maxLength: z.number().int().min(2).max(1_000_000),
    /** Parts each micro-batch is split into for data-parallel threads (stored with the run). */
    shards: z.number().int().positive().max(64),
    checkpointEvery: z.number().int().positive(),
    keepCheckpoints: z.number().int().positive().max(1000),
  })
  .partial()
  .strict();
export type SftHyperparameterParams = z.infer<typeof SftHyperparameterParams>;

export const ModelTrainSftParams = z
  .object({
    /** The base model: a workspace model id or an absolute HF folder. */
    model: z.string().min(1).max(4096).optional(),
    /** Or a fresh model of a preset size, with a tokenizer trained on the data. */
    preset: ModelPreset.optional(),
    datasetId: Id.optional(),
    /** JSONL files of {"messages": [...]} or {"prompt", "completion"} lines. */
    files: z.array(AbsolutePath).min(1).max(1000).optional(),
    hyperparameters: SftHyperparameterParams.default({}),
    seed: z.number().int().optional(),
    /** The trained model's name (and the run's). Default: `<base>-sft`. */
    outputName: z.string().min(1).max(200).optional(),
    /** The run folder's id. Default: made from outputName. */
    runId: Id.optional(),
    /** Continue the run from its newest valid checkpoint (or start it if it does not exist). */
    resume: z.boolean().default(false),
    /** Threads for data-parallel gradients (default: the machine's cores on wasm/cpu, up to 4, and the run's shards). */
    threads: z.number().int().positive().max(64).optional(),
  })
  .strict()
  .refine((request) => (request.model === undefined) !== (request.preset === undefined), {
    message: 'give either model or preset',
  })
  .refine((request) => (request.datasetId === undefined) !== (request.files === undefined), {
    message: 'give either datasetId or files',
  });
export type ModelTrainSftParams = z.input<typeof ModelTrainSftParams>;

/** One optimizer step (job:output data of model.train-sft, and a line of the run's metrics.jsonl). */
export const TrainMetricsOutput = z.object({
  type: z.literal('metrics'),
  /** Steps taken, this one included. */
  step: z.number().int().positive(),
  /** Epochs read, fractional. */
  epoch: z.number().nonnegative(),
  /** Mean cross-entropy over the step's assistant tokens. */
  loss: z.number(),
  /** The gradient's global norm before clipping. */
  gradNorm: z.number(),
  learningRate: z.number(),
  /** Real tokens read in the step (padding excluded). */
  tokens: z.number().int().nonnegative(),
  lossTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  seconds: z.number().nonnegative(),
});
export type TrainMetricsOutput = z.infer<typeof TrainMetricsOutput>;

export const ModelTrainSftResult = z.object({
  runId: z.string(),
  runFolder: z.string(),
  modelId: z.string(),
  modelName: z.string(),
  summary: ModelSummary,
  base: z.union([z.object({ model: z.string() }), z.object({ preset: ModelPreset })]),
  datasetId: z.string().nullable(),
  steps: z.number().int().nonnegative(),
  /** The step the run resumed from, or null for a fresh run. */
  resumedFrom: z.number().int().nonnegative().nullable(),
  finalLoss: z.number().nullable(),
  /** Mean training throughput of this job's steps (real tokens / s). */
  tokensPerSecond: z.number().nonnegative(),
  threads: z.number().int().positive(),
  /** Things the user should know (skipped records, ignored hyperparameters on resume, fallbacks). */
  notes: z.array(z.string()),
  /** The trained model's catalog entry the host added. */
  entry: ModelEntry,
});
export type ModelTrainSftResult = z.infer<typeof ModelTrainSftResult>;

/** Any piece the model jobs stream. */
export const ModelJobOutput = z.discriminatedUnion('type', [GenerateTokenOutput, TrainMetricsOutput]);
export type ModelJobOutput = z.infer<typeof ModelJobOutput>;

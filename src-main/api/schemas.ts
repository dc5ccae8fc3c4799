/**
 * Domain schemas shared by every host. Pure zod: no node:*, no electron, no DOM.
 * Types are inferred from the schemas so the runtime check and the static type cannot drift.
 */
import { z } from 'zod';

export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'ids are 1-128 characters of [A-Za-z0-9._-]');

export const BackendName = z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

export const BackendAttempt = z.object({
  name: BackendName,
  /** npm package that provides it. */
  package: z.string(),
  chosen: z.boolean(),
  /** Why it was not taken (or "selected"). */
  reason: z.string(),
});
export type BackendAttempt = z.infer<typeof BackendAttempt>;

export const BackendInfo = z.object({
  name: BackendName,
  tfjsVersion: z.string(),
  gpu: z.boolean(),
  threads: z.number().int().nonnegative(),
  attempts: z.array(BackendAttempt),
  /** Kernels registered by the workbench because the backend lacks them. */
  shims: z.array(z.string()),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

export const JobKind = z.enum([
  'selftest.gradients',
  'selftest.sleep',
  'dataset.import',
  'signals.mine',
  'signals.train',
  'model.import',
  'model.generate',
  'model.train-sft',
  'run.train',
  'run.export',
  'run.import',
  'report.build',
  'reward.train',
  'eval.run',
]);
export type JobKind = z.infer<typeof JobKind>;

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobProgress = z.object({
  phase: z.string(),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
  /** Seconds left, estimated from the rate so far; null until it can be estimated. */
  etaSeconds: z.number().nonnegative().nullable(),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const AppErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  details: z.unknown().optional(),
});

export const Job = z.object({
  id: Id,
  kind: JobKind,
  title: z.string(),
  params: z.record(z.string(), z.unknown()),
  status: JobStatus,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  progress: JobProgress,
  result: z.unknown().optional(),
  error: AppErrorSchema.optional(),
});
export type Job = z.infer<typeof Job>;

export const WorkspaceInfo = z.object({
  path: z.string(),
  schemaVersion: z.number().int(),
  /** Visible warnings, e.g. a quarantined corrupt catalog. */
  warnings: z.array(z.string()),
  counts: z.object({
    datasets: z.number().int(),
    models: z.number().int(),
    runs: z.number().int(),
    reports: z.number().int(),
    jobs: z.number().int(),
  }),
});
export type WorkspaceInfo = z.infer<typeof WorkspaceInfo>;

/** Catalog entries: metadata only; bulk data lives in the entry's folder. */
export const DatasetEntry = z.object({
  id: Id,
  name: z.string(),
  format: z.string(),
  createdAt: z.string(),
  conversations: z.number().int().nonnegative(),
  sourceFiles: z.array(z.string()),
  /** Import summary (engine/data): counts, facets and flags the dataset list shows. */
  messages: z.number().int().nonnegative().optional(),
  rejected: z.number().int().nonnegative().optional(),
  duplicates: z.number().int().nonnegative().optional(),
  /** Conversations per detected language (ISO 639-1 or `und`). */
  languages: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Personal-data matches by kind (email, phone, card, ip, secret). */
  piiCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Whether personal data was replaced by placeholders on import. */
  redacted: z.boolean().optional(),
  /** The dataset folder's import report, relative to the workspace. */
  reportPath: z.string().optional(),
  /** Signal mining summary (engine/signals), set when a `signals.mine` job finishes. */
  mining: z
    .object({
      minedAt: z.string(),
      detectors: z.array(z.string()),
      dsat: z.number().int().nonnegative(),
      sat: z.number().int().nonnegative(),
      pairs: z.number().int().nonnegative(),
      seedPairs: z.number().int().nonnegative(),
      satRecords: z.number().int().nonnegative(),
      byCategory: z.record(z.string(), z.number().int().nonnegative()),
    })
    .optional(),
});
export type DatasetEntry = z.infer<typeof DatasetEntry>;

/**
 * A frozen, versioned selection of curated DSAT pairs in `<workspace>/pairsets/<name>/v<version>/`
 * (pairs.jsonl + manifest.json). Training runs reference it by `id` (`<name>@v<version>`).
 */
export const PairSetEntry = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}@v[1-9][0-9]*$/),
  name: Id,
  version: z.number().int().positive(),
  datasetId: z.string(),
  createdAt: z.string(),
  pairs: z.number().int().nonnegative(),
  seedPairs: z.number().int().nonnegative(),
  /** sha256 of pairs.jsonl. */
  checksum: z.string(),
  /** The version's folder, relative to the workspace. */
  path: z.string(),
});
export type PairSetEntry = z.infer<typeof PairSetEntry>;

/** What a model's tokenizer is (engine/model/store.ts). */
export const TokenizerSummary = z.object({
  vocabSize: z.number().int().nonnegative(),
  bosToken: z.string().nullable(),
  eosToken: z.string().nullable(),
  padToken: z.string().nullable(),
  hasChatTemplate: z.boolean(),
});
export type TokenizerSummary = z.infer<typeof TokenizerSummary>;

export const ModelEntry = z.object({
  id: Id,
  name: z.string(),
  /** HF class name, e.g. LlamaForCausalLM. */
  architecture: z.string(),
  parameters: z.number().int().nonnegative(),
  createdAt: z.string(),
  /** Where it came from: the imported folder's path, or `sft:<runId>` for a trained model. */
  source: z.string(),
  /** imported from a folder, or trained in this workspace. */
  origin: z.enum(['imported', 'trained']).optional(),
  /** HF model_type: llama, mistral, qwen2, qwen3, gpt2. */
  modelType: z.string().optional(),
  /** The stored weights' dtype: float32, bfloat16, float16. */
  dtype: z.string().optional(),
  vocabSize: z.number().int().nonnegative().optional(),
  /** max_position_embeddings. */
  contextLength: z.number().int().nonnegative().optional(),
  hiddenSize: z.number().int().nonnegative().optional(),
  layers: z.number().int().nonnegative().optional(),
  /** null: the folder has no tokenizer (generation then needs token ids). */
  tokenizer: TokenizerSummary.nullable().optional(),
  sizeBytes: z.number().int().nonnegative().optional(),
  /** For trained models: the run and the model it started from. */
  runId: z.string().optional(),
  baseModel: z.string().optional(),
  /** What it is for: a policy (causal LM, the default) or a reward model (`*ForSequenceClassification`). */
  role: z.enum(['policy', 'reward']).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const RunMethod = z.enum(['drift', 'iterdpo', 'spin', 'dpo', 'sft']);
/** Where a run stands: a job's states plus `paused` (stopped by the user, resumable). */
export const RunStatus = z.enum(['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunEntry = z.object({
  id: Id,
  name: z.string(),
  method: RunMethod,
  status: RunStatus,
  createdAt: z.string(),
  baseModelId: z.string(),
  datasetId: z.string(),
  /** Preference runs: the pair set reference, the iterations asked for and finished, the job running it. */
  pairSet: z.string().optional(),
  iterations: z.number().int().nonnegative().optional(),
  iterationsDone: z.number().int().nonnegative().optional(),
  jobId: z.string().nullable().optional(),
  /** The models the run produced (seed, iter-1, ...), in order. */
  modelIds: z.array(z.string()).optional(),
  updatedAt: z.string().optional(),
});
export type RunEntry = z.infer<typeof RunEntry>;

export const ReportFormat = z.enum(['html', 'pdf', 'md', 'json']);
export type ReportFormat = z.infer<typeof ReportFormat>;

export const ReportEntry = z.object({
  id: Id,
  title: z.string(),
  createdAt: z.string(),
  formats: z.array(ReportFormat),
  /** The runs it describes: one (a run report) or several (a comparison). */
  runIds: z.array(z.string()).optional(),
  /** The report folder, relative to the workspace (`reports/<id>`). */
  folder: z.string().optional(),
  /** Its files, relative to the folder (`report.html`, `charts/curve-loss.svg`, ...). */
  files: z.array(z.string()).optional(),
});
export type ReportEntry = z.infer<typeof ReportEntry>;

/** job:start params of `report.build` (engine/report): writes `<workspace>/reports/<id>/`. */
export const ReportBuildParams = z
  .object({
    runIds: z.array(Id).min(1).max(16),
    formats: z.array(ReportFormat).min(1).default(['html', 'md', 'json']),
    title: z.string().min(1).max(200).optional(),
    /** Default: from the runs and the time; an existing report with this id is replaced. */
    id: Id.optional(),
    /** An evaluation to include: a workspace evaluation (`evaluations/<id>/result.json`) or an EvaluationResult JSON file (absolute path). */
    evaluationId: Id.optional(),
    evaluationFile: z.string().min(1).max(4096).optional(),
  })
  .strict()
  .refine((params) => params.evaluationId === undefined || params.evaluationFile === undefined, {
    message: 'give evaluationId or evaluationFile, not both',
  });
export type ReportBuildParams = z.input<typeof ReportBuildParams>;

export const Settings = z.object({
  /** Preferred backend; "auto" walks the fallback chain. */
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
  /** Jobs that may run at the same time (each in its own worker thread). */
  maxConcurrentJobs: z.number().int().min(1).max(8),
  theme: z.enum(['system', 'light', 'dark']),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = { backend: 'auto', maxConcurrentJobs: 1, theme: 'system' };

/**
 * Training: supervised fine-tuning (sft.ts) with AdamW or RMSprop (compute/optimizers.ts), warmup and
 * decay schedules (schedules.ts), data-parallel gradients across threads (parallel.ts), and
 * crash-safe checkpoints that resume bit-identically (checkpoint.ts). The `model.train-sft` job is
 * job.ts.
 */
export type { SftExample, SftRecord, TokenBatch, TokenizationStats } from './data.js';
export {
  fingerprintExamples,
  padBatch,
  readSftRecords,
  shardBatch,
  tokenizeConversation,
  tokenizeRecords,
} from './data.js';
export { batchGradients, batchLossSum, maskedCrossEntropySum } from './loss.js';
export type {
  AdamWConfig,
  DecayScope,
  Optimizer,
  OptimizerConfig,
  OptimizerKind,
  OptimizerSlot,
  OptimizerState,
  RmspropConfig,
} from '../compute/optimizers.js';
export { OPTIMIZER_DEFAULTS, clipByGlobalNorm, createOptimizer } from '../compute/optimizers.js';
export type { Schedule, ScheduleKind } from './schedules.js';
export { learningRateAt } from './schedules.js';
export type { ExecutorOptions, GradientExecutor, ShardResult } from './parallel.js';
export { createGradientExecutor, defaultThreads } from './parallel.js';
export type { SftHyperparameters, StepMetrics, TrainerState } from './sft.js';
export { SFT_DEFAULTS, SftTrainer, TrainerStateSchema, resolveHyperparameters } from './sft.js';
export type {
  CheckpointContents,
  CheckpointManifest,
  CheckpointSearch,
  LoadedCheckpoint,
  VerifiedCheckpoint,
} from './checkpoint.js';
export {
  architectureOf,
  assertSameArchitecture,
  cleanStaleStaging,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  stepFolderName,
  verifyCheckpoint,
} from './checkpoint.js';
export type { Preset, PresetName } from './presets.js';
export { PRESETS, PRESET_NAMES } from './presets.js';
export * from './preference/index.js';

/**
 * Preference optimisation (DPO and its IPO and paired-KTO variants, with RPO's NLL term): pairs →
 * tokens (data.ts), completion log-probs of the policy and the frozen reference (logprobs.ts), the
 * losses (losses.ts) and the training loop with its evaluation (trainer.ts). The run orchestrator
 * (engine/runs) drives it.
 */
export type {
  PreferenceExample,
  PreferencePair,
  PreferenceTokenBatch,
  PreferenceTokenization,
  PreferenceTokenizationLimits,
  SequenceTokenBatch,
} from './data.js';
export { preferenceBatch, sequenceBatch, tokenizePreferencePairs } from './data.js';
export type { CompletionLogProbs } from './logprobs.js';
export { batchLogProbSums, completionLogProbs, maskedLogProbSums, sequenceLogProbs } from './logprobs.js';
export type { PreferenceLossOptions } from './losses.js';
export { gradientWeights, preferenceLoss, stopGradient, summarizeGradientWeights } from './losses.js';
export type { PreferenceStepMetrics, PreferenceTrainerOptions, PreferenceTrainerState } from './trainer.js';
export {
  PreferenceTrainer,
  PreferenceTrainerStateSchema,
  evaluatePreference,
  evaluatePreferenceSummary,
  lossOptionsOf,
} from './trainer.js';

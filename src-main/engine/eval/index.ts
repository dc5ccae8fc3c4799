/**
 * Evaluation (drift-paper.md §5): reward models (Bradley–Terry training, HF sequence-classification
 * loading) and the {@link RewardFunction} a gold checker also fits, win rates with bootstrap
 * intervals and a length-controlled variant, diversity metrics, embeddings, the §5.3 reward map, and
 * `evaluateCheckpoints`, which puts them together into one `EvaluationResult`.
 */
export type { BradleyTerryOptions, BradleyTerryReport, BradleyTerryStep, PreferencePair } from './bradley-terry.js';
export { trainBradleyTerry } from './bradley-terry.js';
export type { SelfBleuOptions } from './diversity.js';
export {
  cosineSimilarityMatrix,
  distinctN,
  diversityMetrics,
  meanCosineDistance,
  selfBleu,
  vendiScore,
  wordTokens,
} from './diversity.js';
export type { HashedEmbeddingOptions, ModelEmbeddingOptions, TextEmbedder } from './embeddings.js';
export { hashedTfidfEmbeddings, modelEmbeddings } from './embeddings.js';
export type { CheckpointSpec, DistinctTexts, EvaluateCheckpointsOptions, EvaluationPhase } from './evaluate.js';
export { distinctTexts, evaluateCheckpoints } from './evaluate.js';
export type { DensityGrid, ProjectionOptions } from './map.js';
export { cellOf, highDensityRegion, projectTo2d, regionShares, weightedDensity } from './map.js';
export type { CreateRewardModelOptions, RewardFunction, RewardModelOptions } from './reward-model.js';
export { RewardModel, SCORE_WEIGHT, loadRewardModel } from './reward-model.js';
export type { BootstrapOptions, Comparison } from './statistics.js';
export {
  bootstrapInterval,
  histogram,
  histogramEdges,
  isGoldSuccess,
  lengthControlledWinRate,
  outcome,
  pairedWinRate,
  quantile,
  summarize,
  summarizeGold,
  winRateOf,
} from './statistics.js';

/**
 * Evaluations in the workspace (issue 7): the `eval.run` job (job.ts) that evaluates checkpoints on
 * held-out prompts (prompts.ts) with a reward model or the gold checker (gold.ts) and stores the
 * result on disk (store.ts), the `reward.train` job (reward-job.ts), win rates between any two
 * checkpoints (win-rates.ts) and the eval:* channels (handlers.ts). The computation itself is
 * engine/eval's.
 */
export type { EvaluationPrompt, GoldJudge } from './gold.js';
export { PAIR_SET_GOLD_JUDGES, simTaskPrompts, taskRewardFunction } from './gold.js';
export { createEvaluationHandlers } from './handlers.js';
export { evaluationDir, listEvaluations, readMeta, readResult, selectResponses } from './store.js';
export { winRateBetween, withAllWinRates } from './win-rates.js';

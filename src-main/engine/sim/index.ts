/**
 * The simulated deployment (ARCHITECTURE.md, "The embedded default"): tasks with checkable
 * answers (tasks.ts, tables.ts), their checker (checker.ts), simulated users who react as
 * WildFeedback's users do (user.ts), conversations between a policy and those users
 * (conversation.ts), the oracle's training data for the base model (corpus.ts), the deployed
 * model and its held-out success rate (deploy.ts), and the logs as WildChat records (wildchat.ts).
 */
export type { DrawTaskOptions, ListFormat, SimLanguage, Split, Task, TaskKind, TaskValues } from './tasks.js';
export {
  TASK_KINDS,
  drawTask,
  expectedAnswer,
  heldOutTasks,
  phrase,
  rephraseTask,
  splitOf,
  taskGroup,
  valuesOf,
} from './tasks.js';
export type { CheckResult, FailureReason, ReasonCode } from './checker.js';
export { FORM_REASONS, MAX_RESPONSE_CHARS, checkAnswer, failsOnFormAlone, parseList, statedAnswer } from './checker.js';
export type { ReactionContext, TurnLabel, UserMove, UserTurn } from './user.js';
export { addNoise, drawLanguage, react } from './user.js';
export type {
  AssistantTurnRecord,
  Policy,
  PolicyRequest,
  SimulateOptions,
  SimulatedConversation,
  UserTurnRecord,
} from './conversation.js';
export { simulate } from './conversation.js';
export type { SftCorpusOptions } from './corpus.js';
export {
  IMPROVE_INSTRUCTIONS,
  answerStyles,
  correctingOraclePolicy,
  habitualAnswer,
  mistakenAnswer,
  oracleAnswer,
  oraclePolicy,
  sftConversations,
} from './corpus.js';
export type { DeployOptions, Deployment, ModelPolicyOptions, SuccessRate } from './deploy.js';
export { SIM_SAMPLING, deploy, heldOutSuccessRate, modelPolicy, promptIds } from './deploy.js';
export type { GroundTruthAnswer, GroundTruthLabel, WildChatRecord, WildChatTurn } from './wildchat.js';
export { toWildChat } from './wildchat.js';

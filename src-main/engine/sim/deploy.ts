/**
 * The model in the simulated deployment: a policy that answers each round of requests with one
 * batched, sampled generation; `deploy`, which runs conversations with simulated users and
 * returns them as WildChat records with their ground truth; and `heldOutSuccessRate`, the true
 * utility of a model on held-out prompts (single-turn, checked by the checker).
 */
import type { CausalLanguageModel, SamplingOptions } from '../model/index.js';
import { generate } from '../model/index.js';
import type { ChatMessage, Tokenizer } from '../text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate } from '../text/index.js';
import type { CheckResult } from './checker.js';
import { checkAnswer } from './checker.js';
import type { Policy, PolicyRequest, SimulatedConversation } from './conversation.js';
import { simulate } from './conversation.js';
import type { Task, TaskKind } from './tasks.js';
import type { GroundTruthAnswer, GroundTruthLabel, WildChatRecord } from './wildchat.js';
import { toWildChat } from './wildchat.js';

/** How the deployed model samples: moderately, as a chat product would. */
export const SIM_SAMPLING: Required<Pick<SamplingOptions, 'temperature' | 'topP'>> = { temperature: 0.7, topP: 0.95 };

export interface ModelPolicyOptions extends SamplingOptions {
  /** Most tokens per answer. Default 48 (every right answer is far shorter). */
  maxNewTokens?: number;
  /** Prompts per generate() call. Default 64. */
  batchSize?: number;
  /** Seeds the sampling; each call and batch draws from its own seed derived from it. Default 0. */
  seed?: number;
  /** Called after each batch with the rows answered so far in this round. */
  onBatch?(done: number, total: number): void;
}

const DEFAULT_MAX_NEW_TOKENS = 48;
const DEFAULT_BATCH_SIZE = 64;

/**
 * The prompt's token ids: the conversation rendered with the tokenizer's chat template and the
 * assistant's generation prompt, as training rendered it. The oldest turns are dropped until
 * prompt and answer fit the model's context (a single over-long turn keeps its end).
 */
export function promptIds(messages: readonly ChatMessage[], tokenizer: Tokenizer, maxPromptTokens: number): number[] {
  const format = tokenizer.chatFormat ?? {
    template: DEFAULT_CHAT_TEMPLATE,
    eosToken: tokenizer.specialTokens.eos?.content ?? null,
  };
  let start = 0;
  for (;;) {
    const text = applyChatTemplate(messages.slice(start), { ...format, addGenerationPrompt: true });
    const ids = tokenizer.encode(text, { addSpecialTokens: false });
    if (ids.length <= maxPromptTokens) return ids;
    if (start >= messages.length - 1) return ids.slice(ids.length - maxPromptTokens);
    // Drop a user turn and the answer after it together, so the context still starts with the user.
    start += messages[start + 1]?.role === 'assistant' && start + 2 < messages.length ? 2 : 1;
  }
}

/** A policy that answers with `model`: each round is generated in batches of `batchSize`. */
export function modelPolicy(
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  options: ModelPolicyOptions = {},
): Policy {
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxPromptTokens = model.config.maxPositionEmbeddings - maxNewTokens;
  const sampling: SamplingOptions = {
    temperature: options.temperature ?? SIM_SAMPLING.temperature,
    topP: options.topP ?? SIM_SAMPLING.topP,
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
    ...(options.minP !== undefined ? { minP: options.minP } : {}),
    ...(options.repetitionPenalty !== undefined ? { repetitionPenalty: options.repetitionPenalty } : {}),
  };
  let call = 0;
  return async (requests: readonly PolicyRequest[]) => {
    const round = call++;
    const answers: string[] = [];
    for (let first = 0; first < requests.length; first += batchSize) {
      const batch = requests.slice(first, first + batchSize);
      const results = await generate(
        model,
        tokenizer,
        batch.map((request) => promptIds(request.messages, tokenizer, maxPromptTokens)),
        { ...sampling, maxNewTokens, seed: (options.seed ?? 0) * 1_000_003 + round * 1009 + first },
      );
      for (const result of results) answers.push(result.text.trim());
      options.onBatch?.(answers.length, requests.length);
    }
    return answers;
  };
}

export interface DeployOptions extends ModelPolicyOptions {
  /** Most tasks one user asks. Default 3. */
  maxTasks?: number;
  /** The model name written into the records. Default 'drift-demo-base'. */
  modelName?: string;
  /** Called after each round with the conversations finished so far. */
  onRound?(done: number, total: number): void;
}

export interface Deployment {
  conversations: SimulatedConversation[];
  /** The conversations as WildChat-1M records (the importer detects them as `wildchat`). */
  records: WildChatRecord[];
  /** One per user turn that reacts to an answer: what it expresses (ground truth). */
  labels: GroundTruthLabel[];
  /** One per answer to a task: the checker's verdict. */
  answers: GroundTruthAnswer[];
}

/**
 * Deploys `model` to `count` simulated users (train-split tasks), sampling its answers; returns
 * the logs as WildChat records with the ground truth beside them. Deterministic for a seed.
 */
export async function deploy(
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  count: number,
  seed: number,
  options: DeployOptions = {},
): Promise<Deployment> {
  const policy = modelPolicy(model, tokenizer, { ...options, seed });
  const conversations = await simulate(policy, {
    count,
    seed,
    split: 'train',
    ...(options.maxTasks !== undefined ? { maxTasks: options.maxTasks } : {}),
    ...(options.onRound ? { onRound: options.onRound } : {}),
  });
  const records: WildChatRecord[] = [];
  const labels: GroundTruthLabel[] = [];
  const answers: GroundTruthAnswer[] = [];
  for (const conversation of conversations) {
    const converted = toWildChat(conversation, { model: options.modelName ?? 'drift-demo-base', seed });
    records.push(converted.record);
    labels.push(...converted.labels);
    answers.push(...converted.answers);
  }
  return { conversations, records, labels, answers };
}

export interface SuccessRate {
  /** successes / total. */
  rate: number;
  successes: number;
  total: number;
  byKind: Partial<Record<TaskKind, { successes: number; total: number; rate: number }>>;
  /** Every task's response and verdict, in order. */
  results: { task: Task; response: string; check: CheckResult }[];
}

/**
 * The share of `tasks` (single-turn prompts, normally {@link heldOutTasks}) that `model` answers
 * right by the checker, sampling as deployed unless told otherwise (temperature 0: greedy).
 */
export async function heldOutSuccessRate(
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  tasks: readonly Task[],
  options: ModelPolicyOptions = {},
): Promise<SuccessRate> {
  const policy = modelPolicy(model, tokenizer, options);
  const responses = await policy(
    tasks.map((task) => ({ messages: [{ role: 'user', content: task.prompt }], task, chat: null, failures: 0 })),
  );
  const results = tasks.map((task, index) => {
    const response = responses[index] ?? '';
    return { task, response, check: checkAnswer(task, response) };
  });
  const byKind: SuccessRate['byKind'] = {};
  for (const { task, check } of results) {
    const entry = (byKind[task.kind] ??= { successes: 0, total: 0, rate: 0 });
    entry.total++;
    if (check.success) entry.successes++;
    entry.rate = entry.successes / entry.total;
  }
  const successes = results.filter((result) => result.check.success).length;
  return { rate: tasks.length === 0 ? 0 : successes / tasks.length, successes, total: tasks.length, byKind, results };
}

/**
 * Gold verdicts (issue 7 (c)): where the prompts come from the simulated deployment, its checker
 * (engine/sim/checker.ts) says whether a response is right, 1 or 0 — a reward that no learned
 * model can game. A {@link GoldJudge} turns a list of prompts into a {@link RewardFunction} when it
 * knows their tasks.
 *
 * Held-out sim tasks (`prompts: {kind: 'sim'}`) carry their tasks, so they always have one. Prompts
 * read from a pair set are DSAT contexts of imported logs; a judge for them must map a
 * conversation back to its task (for the demo dataset: the ground-truth files written beside the
 * simulated logs). {@link PAIR_SET_GOLD_JUDGES} is where such a judge registers.
 */
import type { ChatMessage } from '../text/index.js';
import type { RewardFunction } from '../eval/index.js';
import type { Task } from '../sim/index.js';
import { checkAnswer, taskGroup } from '../sim/index.js';

/** A held-out prompt and where it came from (what a gold judge may look its task up by). */
export interface EvaluationPrompt {
  messages: ChatMessage[];
  datasetId?: string;
  conversationId?: string;
  /** What its results are grouped under in the report (a simulated task's kind); absent when unknown. */
  group?: string;
}

/** Finds the gold checker of a list of prompts. */
export interface GoldJudge {
  readonly name: string;
  /** A reward function (1 right, 0 wrong) over these prompts, or null when it cannot judge every one of them. */
  judge(prompts: readonly EvaluationPrompt[], workspaceDir: string): Promise<RewardFunction | null>;
}

/** The key a prompt is found by: its messages' roles and texts. */
function promptKey(messages: readonly ChatMessage[]): string {
  return JSON.stringify(messages.map(({ role, content }) => [role, content]));
}

/** The checker as a reward function over prompts whose tasks are known (keyed by the prompt's messages). */
export function taskRewardFunction(tasks: ReadonlyMap<string, Task>): RewardFunction {
  return async (prompts, responses) =>
    responses.map((response, index) => {
      const task = tasks.get(promptKey(prompts[index] ?? []));
      // evaluateCheckpoints only passes the prompts it was given, so a task is always found.
      if (task === undefined) throw new Error('A prompt without a task reached the gold checker.');
      return checkAnswer(task, response).success ? 1 : 0;
    });
}

/** The prompts of simulated tasks (one user turn each) and their gold checker. */
export function simTaskPrompts(tasks: readonly Task[]): { prompts: EvaluationPrompt[]; gold: RewardFunction } {
  const byKey = new Map<string, Task>();
  const prompts = tasks.map((task) => {
    const messages = [{ role: 'user', content: task.prompt }];
    byKey.set(promptKey(messages), task);
    return { messages, group: taskGroup(task) };
  });
  return { prompts, gold: taskRewardFunction(byKey) };
}

/**
 * Judges for prompts read from a pair set, tried in order. Empty until a dataset can map its
 * conversations back to tasks (see the module comment).
 */
export const PAIR_SET_GOLD_JUDGES: GoldJudge[] = [];

/** The first registered judge that can judge every prompt, or null. */
export async function pairSetGold(
  prompts: readonly EvaluationPrompt[],
  workspaceDir: string,
): Promise<RewardFunction | null> {
  for (const judge of PAIR_SET_GOLD_JUDGES) {
    const reward = await judge.judge(prompts, workspaceDir);
    if (reward !== null) return reward;
  }
  return null;
}

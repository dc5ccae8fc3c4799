/**
 * The held-out prompts of an evaluation and their gold checker, if any. A pair set gives the DSAT
 * contexts of its held-out split — the first min(testSize, ⌊testFraction · pairs⌋) usable pairs,
 * which the preference runs hold out the same way (engine/runs/recipes.ts), so checkpoints are
 * judged on prompts they did not train on. The simulated deployment gives held-out tasks.
 */
import { AppFailure, type EvaluationPromptSource } from '../../api/index.js';
import type { RewardFunction } from '../eval/index.js';
import { heldOutCount } from '../runs/recipes.js';
import { resolvePairSetOnDisk } from '../runs/records.js';
import { readPairSet } from '../curation/pairsets.js';
import { heldOutTasks } from '../sim/index.js';
import type { EvaluationPrompt } from './gold.js';
import { pairSetGold, simTaskPrompts } from './gold.js';

export interface ResolvedPrompts {
  prompts: EvaluationPrompt[];
  /** The checker's verdicts, where the prompts have one. */
  gold: RewardFunction | null;
}

/** @throws AppFailure `not_found` (no such pair set), `job_invalid_params` (no usable prompt) */
export async function resolvePrompts(source: EvaluationPromptSource, workspaceDir: string): Promise<ResolvedPrompts> {
  if (source.kind === 'sim') return simTaskPrompts(heldOutTasks(source.count, source.seed));
  const { entry } = await resolvePairSetOnDisk(workspaceDir, source.pairSet);
  const usable: EvaluationPrompt[] = [];
  for await (const pair of readPairSet(workspaceDir, entry)) {
    if (pair.status === 'rejected') continue;
    usable.push({
      messages: pair.context.map(({ role, content }) => ({ role, content })),
      datasetId: pair.datasetId,
      conversationId: pair.conversationId,
    });
  }
  const candidates =
    source.split === 'all'
      ? usable
      : usable.slice(0, heldOutCount(usable.length, source.testSize, source.testFraction));
  const seen = new Set<string>();
  const prompts: EvaluationPrompt[] = [];
  for (const prompt of candidates) {
    const key = JSON.stringify(prompt.messages);
    if (seen.has(key) || prompt.messages.length === 0) continue;
    seen.add(key);
    prompts.push(prompt);
    if (prompts.length === source.count) break;
  }
  if (prompts.length === 0) {
    throw new AppFailure(
      'job_invalid_params',
      `Pair set ${entry.id} has no held-out prompt (${usable.length} usable pairs); use split "all" or a larger set.`,
    );
  }
  return { prompts, gold: await pairSetGold(prompts, workspaceDir) };
}

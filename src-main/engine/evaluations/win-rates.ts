/**
 * Win rates between every two checkpoints of a result, not only against the first (which
 * `evaluateCheckpoints` reports): the same paired comparison — sample k of a prompt against the
 * other checkpoint's sample k — the same prompt-level bootstrap and the same length-controlled
 * variant (engine/eval/statistics.ts), so the Compare view can take any checkpoint as the opponent.
 */
import type { EvaluationResult, EvaluationSample, WinRate } from '../../api/index.js';
import type { Comparison } from '../eval/index.js';
import { pairedWinRate } from '../eval/index.js';
import { Random } from '../model/index.js';

/** `checkpoint` against `opponent` over the result's samples. */
export function winRateBetween(result: EvaluationResult, checkpoint: number, opponent: number): WinRate {
  const key = (sample: EvaluationSample) => `${sample.prompt}:${sample.sample}`;
  const theirs = new Map((result.checkpoints[opponent]?.samples ?? []).map((sample) => [key(sample), sample]));
  const byPrompt: Comparison[][] = result.prompts.map(() => []);
  for (const sample of result.checkpoints[checkpoint]?.samples ?? []) {
    const other = theirs.get(key(sample));
    if (other === undefined) continue;
    byPrompt[sample.prompt]?.push({
      reward: sample.reward,
      opponentReward: other.reward,
      length: sample.text.length,
      opponentLength: other.text.length,
    });
  }
  const seed = new Random(result.settings.seed, checkpoint, opponent).nextUint32();
  return pairedWinRate(checkpoint, opponent, byPrompt, result.settings.winRate, seed);
}

/** The result's win rates plus every ordered pair of checkpoints it lacks. */
export function withAllWinRates(result: EvaluationResult): EvaluationResult {
  const known = new Set(result.winRates.map((rate) => `${rate.checkpoint}:${rate.opponent}`));
  const added: WinRate[] = [];
  result.checkpoints.forEach((_, checkpoint) => {
    result.checkpoints.forEach((__, opponent) => {
      if (checkpoint !== opponent && !known.has(`${checkpoint}:${opponent}`)) {
        added.push(winRateBetween(result, checkpoint, opponent));
      }
    });
  });
  return { ...result, winRates: [...result.winRates, ...added] };
}

/**
 * The `eval.run` job (worker side): resolves the checkpoints (workspace models), the held-out
 * prompts (prompts.ts) and the judge — a reward model, or the gold checker where the prompts have
 * one — runs `evaluateCheckpoints` (engine/eval) with its progress as the job's, adds the win rate
 * of every checkpoint against every other (win-rates.ts), and writes the result and its meta to
 * `<workspace>/evaluations/<id>/` (store.ts). No catalog entry: the folder is the record.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  AppFailure,
  EvalRunParams,
  type EvalRunResult,
  type EvaluationMeta,
  type EvaluationResult,
  type GoldGroup,
} from '../../api/index.js';
import type { RewardFunction, RewardModel } from '../eval/index.js';
import { evaluateCheckpoints, isGoldSuccess, loadRewardModel, summarizeGold } from '../eval/index.js';
import type { JobHandler } from '../jobs/types.js';
import { modelDir } from '../workspace/layout.js';
import { pathExists } from '../workspace/atomic.js';
import { threadCount } from '../compute/threads.js';
import { resolvePrompts } from './prompts.js';
import { evaluationDir, newEvaluationId, writeEvaluation } from './store.js';
import { withAllWinRates } from './win-rates.js';

const PHASE_NAMES = { generating: 'generating responses', scoring: 'scoring', analysing: 'analysing' } as const;

export const runEvaluation: JobHandler = async (params, context) => {
  const parsed = EvalRunParams.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  const request = parsed.data;
  const { workspaceDir } = context;
  const id = request.id ?? (await newEvaluationId(workspaceDir));
  if (request.id !== undefined && (await pathExists(evaluationDir(workspaceDir, id)))) {
    throw new AppFailure('evaluation_exists', `Evaluation ${id} already exists.`, { id });
  }
  const checkpoints = await Promise.all(
    request.checkpoints.map(async (checkpoint) => {
      const folder = modelDir(workspaceDir, checkpoint.modelId);
      if (!(await isFolder(folder))) {
        throw new AppFailure('not_found', `No model ${checkpoint.modelId} in this workspace.`, {
          modelId: checkpoint.modelId,
        });
      }
      return { label: checkpoint.label, folder };
    }),
  );

  context.progress('reading prompts', 0, 1);
  const { prompts, gold } = await resolvePrompts(request.prompts, workspaceDir);
  context.throwIfCancelled();

  let rewardModel: RewardModel | null = null;
  let reward: RewardFunction;
  if (request.reward.kind === 'gold') {
    if (gold === null) {
      throw new AppFailure(
        'eval_gold_unavailable',
        request.prompts.kind === 'pair-set'
          ? `No gold checker knows the conversations of pair set ${request.prompts.pairSet}.`
          : 'These prompts have no gold checker.',
      );
    }
    reward = gold;
  } else {
    context.progress('loading the reward model', 0, 1);
    const folder = 'modelId' in request.reward ? modelDir(workspaceDir, request.reward.modelId) : request.reward.folder;
    if (!path.isAbsolute(folder)) {
      throw new AppFailure('job_invalid_params', `reward.folder must be an absolute path; got ${folder}.`);
    }
    rewardModel = await loadRewardModel(folder);
    reward = rewardModel.rewardFunction(context.signal);
  }

  let evaluated: EvaluationResult;
  try {
    evaluated = await evaluateCheckpoints({
      checkpoints,
      prompts: prompts.map((prompt) => prompt.messages),
      reward,
      ...(gold !== null && request.reward.kind !== 'gold' ? { gold } : {}),
      settings: request.settings,
      signal: context.signal,
      onProgress: (done, total, phase, threads) =>
        context.progress(
          PHASE_NAMES[phase],
          done,
          total,
          threads === undefined ? undefined : `on ${threadCount(threads)}`,
        ),
    });
  } finally {
    rewardModel?.dispose();
  }
  // With the checker as the reward, its verdicts are the gold ones too.
  const result = withGoldByGroup(
    withAllWinRates(request.reward.kind === 'gold' ? withGoldFromReward(evaluated) : evaluated),
    prompts.map((prompt) => prompt.group),
  );

  const meta: EvaluationMeta = {
    id,
    title: request.title ?? `${request.checkpoints.map((checkpoint) => checkpoint.label).join(' vs ')}`,
    createdAt: new Date().toISOString(),
    checkpoints: request.checkpoints,
    prompts: request.prompts,
    promptCount: prompts.length,
    reward: request.reward,
    gold: gold !== null,
    samples: request.settings.samples,
    seconds: result.seconds,
    summary: result.checkpoints.map((checkpoint, index) => ({
      label: checkpoint.label,
      meanReward: checkpoint.rewards.mean,
      goldSuccess: checkpoint.gold?.successRate ?? null,
      winRate: result.winRates.find((rate) => rate.checkpoint === index && rate.opponent === 0)?.winRate ?? null,
      vendiScore: checkpoint.diversity.vendiScore,
    })),
  };
  const folder = await writeEvaluation(workspaceDir, meta, result);
  return { id, folder, meta } satisfies EvalRunResult;
};

/** Copies each sample's reward (the checker's 1/0) into its gold verdict and fills the gold summaries. */
function withGoldFromReward(result: EvaluationResult): EvaluationResult {
  return {
    ...result,
    checkpoints: result.checkpoints.map((checkpoint) => {
      const samples = checkpoint.samples.map((sample) => ({ ...sample, gold: sample.reward }));
      return { ...checkpoint, samples, gold: summarizeGold(samples.map((sample) => sample.reward)) };
    }),
  };
}

/**
 * Adds each checkpoint's gold success by prompt group (`groups[i]` is prompt i's), when every
 * prompt has a group and the samples have gold verdicts; otherwise returns the result as it is.
 */
export function withGoldByGroup(result: EvaluationResult, groups: readonly (string | undefined)[]): EvaluationResult {
  if (groups.length !== result.prompts.length || groups.some((group) => group === undefined)) return result;
  return {
    ...result,
    checkpoints: result.checkpoints.map((checkpoint) => {
      if (checkpoint.gold === null) return checkpoint;
      const counts = new Map<string, GoldGroup>();
      for (const sample of checkpoint.samples) {
        const group = groups[sample.prompt];
        if (group === undefined || sample.gold === null) continue;
        const entry = counts.get(group) ?? { group, samples: 0, successes: 0 };
        entry.samples += 1;
        if (isGoldSuccess(sample.gold)) entry.successes += 1;
        counts.set(group, entry);
      }
      const byGroup = [...counts.values()].sort((a, b) => a.group.localeCompare(b.group));
      return { ...checkpoint, gold: { ...checkpoint.gold, byGroup } };
    }),
  };
}

async function isFolder(folder: string): Promise<boolean> {
  try {
    return (await stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The evaluation jobs and channels on a tiny workspace (a tiny Llama with its tokenizer and the
 * `sums` pair set of test/engine/runs): a Bradley–Terry reward model is trained and registered
 * with role `reward`, two checkpoints are evaluated with it on the pair set's held-out contexts,
 * and with the simulated deployment's checker on its held-out tasks; the stored result is
 * schema-valid and the eval:* handlers list it, ship it without responses and page them.
 */
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EvalRunResult,
  EvaluationMeta,
  EvaluationResult,
  RewardTrainResult,
  type Job,
  type SatRecord,
} from '../../../src-main/api/index.js';
import { loadRewardModel } from '../../../src-main/engine/eval/index.js';
import { EngineEvents } from '../../../src-main/engine/events.js';
import { createEvaluationHandlers } from '../../../src-main/engine/evaluations/handlers.js';
import { runEvaluation, withGoldByGroup } from '../../../src-main/engine/evaluations/job.js';
import { heldOutTasks, taskGroup } from '../../../src-main/engine/sim/index.js';
import {
  completeRewardTraining,
  satOverDsat,
  seedPreferences,
  trainRewardModel,
} from '../../../src-main/engine/evaluations/reward-job.js';
import { createModel, loadHfModel, saveHfModel } from '../../../src-main/engine/model/model.js';
import { openWorkspace, type Workspace } from '../../../src-main/engine/workspace/index.js';
import { useBackend } from '../model/helpers.js';
import { BASE_MODEL, PAIR_SET, fakeContext, removeWorkspaces, runWorkspace, sumPairs } from '../runs/helpers.js';

const OTHER_MODEL = 'tiny-other';
let workspaceDir: string;
let workspace: Workspace;

beforeAll(async () => {
  await useBackend('wasm');
  workspaceDir = await runWorkspace();
  // A second checkpoint: the same architecture and tokenizer, other weights.
  const baseFolder = path.join(workspaceDir, 'models', BASE_MODEL);
  const base = await loadHfModel(baseFolder, { trainable: false });
  const other = createModel(base.config, { seed: 11, trainable: false });
  base.dispose();
  const otherFolder = path.join(workspaceDir, 'models', OTHER_MODEL);
  await saveHfModel(other, otherFolder);
  other.dispose();
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    await cp(path.join(baseFolder, file), path.join(otherFolder, file));
  }
  workspace = await openWorkspace(workspaceDir);
});

afterAll(async () => {
  await workspace?.close();
  await removeWorkspaces();
});

const FAST = { samples: 2, sampling: { maxNewTokens: 6, batchSize: 4 }, winRate: { bootstrapSamples: 200 } };
const CHECKPOINTS = [
  { label: 'base', modelId: BASE_MODEL, method: 'base' },
  { label: 'other', modelId: OTHER_MODEL, method: 'drift' },
];

describe('reward pairs', () => {
  it('takes seed pairs’ chosen over rejected, and SAT answers of the same conversation, request, or a draw', () => {
    const pairs = sumPairs(4);
    expect(seedPreferences(pairs)).toEqual([
      {
        prompt: [{ role: 'user', content: 'What is 2 plus 0?' }],
        chosen: '2 plus 0 is 2.',
        rejected: 'No idea, sorry.',
      },
      {
        prompt: [{ role: 'user', content: 'What is 4 plus 1?' }],
        chosen: '4 plus 1 is 5.',
        rejected: 'No idea, sorry.',
      },
    ]);
    const sat = (conversationId: string, request: string, answer: string): SatRecord => ({
      id: `sat-${conversationId}`,
      datasetId: 'sums',
      conversationId,
      context: [{ role: 'user', content: request, turn: 0 }],
      response: { role: 'assistant', content: answer, turn: 1 },
      categories: [],
      confidence: 1,
      detector: 'rules',
      language: 'en',
    });
    const records = [sat('c1', 'unrelated', 'same conversation'), sat('x', 'What is 4 plus 1?', 'same request')];
    const made = satOverDsat(pairs, records, 0);
    expect(made.map((pair) => pair.chosen).slice(1, 3)).toEqual(['same conversation', 'same request']);
    expect(made.every((pair) => pair.rejected === 'No idea, sorry.')).toBe(true);
    expect(made[1]?.prompt.at(-1)?.content).toBe('What is 3 plus 5?');
    // With no match the answer is drawn from the records, the same for the same seed.
    expect(records.map((record) => record.response.content)).toContain(made[0]?.chosen);
    expect(satOverDsat(pairs, records, 0)).toEqual(made);
    expect(satOverDsat(pairs, [], 0)).toEqual([]);
  });
});

describe('reward.train', () => {
  it('trains a Bradley–Terry model on seed pairs, saves a sequence-classification folder, registers role reward', async () => {
    const context = fakeContext(workspaceDir);
    const output = (await trainRewardModel(
      { modelId: BASE_MODEL, pairSet: PAIR_SET, epochs: 2, batchSize: 4, learningRate: 3e-3, heldOutFraction: 0.25 },
      context,
    )) as RewardTrainResult;
    // 8 of the 16 pairs are seed pairs: 2 held out, 6 trained on in 2 batches a pass.
    expect(output).toMatchObject({ pairSet: 'sums@v1', pairCounts: { seed: 8, satVsDsat: 0 }, trainPairs: 6 });
    expect(output.heldOutPairs).toBe(2);
    expect(output.steps).toBe(4);
    expect(output.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    expect(context.phases).toContain('training');
    const config = JSON.parse(await readFile(path.join(output.folder, 'config.json'), 'utf8')) as {
      architectures: string[];
    };
    expect(config.architectures).toEqual(['LlamaForSequenceClassification']);
    const loaded = await loadRewardModel(output.folder);
    loaded.dispose();

    const final = RewardTrainResult.parse(
      await completeRewardTraining({} as Job, output, { workspace, events: new EngineEvents() }),
    );
    expect(final.entry).toMatchObject({
      id: output.modelId,
      role: 'reward',
      origin: 'trained',
      architecture: 'LlamaForSequenceClassification',
      baseModel: BASE_MODEL,
    });
    expect(workspace.catalog.data.models.map((model) => model.id)).toContain(output.modelId);
  });

  it('refuses bad params and a pair source with too few pairs', async () => {
    await expect(trainRewardModel({ modelId: BASE_MODEL }, fakeContext(workspaceDir))).rejects.toMatchObject({
      code: 'job_invalid_params',
    });
    // The pair set's dataset has no sat.jsonl, so SAT vs DSAT makes no pair.
    await expect(
      trainRewardModel({ modelId: BASE_MODEL, pairSet: PAIR_SET, pairs: ['sat-vs-dsat'] }, fakeContext(workspaceDir)),
    ).rejects.toMatchObject({ code: 'training_data_invalid' });
  });
});

describe('eval.run', () => {
  it('evaluates checkpoints with a reward model on the held-out contexts and serves the result', async () => {
    const rewardModel = workspace.catalog.data.models.find((model) => model.role === 'reward');
    expect(rewardModel).toBeDefined();
    const context = fakeContext(workspaceDir);
    const output = EvalRunResult.parse(
      await runEvaluation(
        {
          id: 'eval-reward',
          checkpoints: CHECKPOINTS,
          prompts: { kind: 'pair-set', pairSet: PAIR_SET },
          reward: { kind: 'reward-model', modelId: rewardModel?.id },
          settings: FAST,
        },
        context,
      ),
    );
    expect(context.phases).toEqual(
      expect.arrayContaining(['reading prompts', 'generating responses', 'scoring', 'analysing']),
    );
    const result = EvaluationResult.parse(JSON.parse(await readFile(path.join(output.folder, 'result.json'), 'utf8')));
    // The run split holds out min(100, ⌊0.2 × 16⌋) = 3 pairs: 3 prompts × 2 samples per checkpoint.
    expect(result.prompts).toHaveLength(3);
    expect(result.checkpoints.map((checkpoint) => checkpoint.samples.length)).toEqual([6, 6]);
    expect(result.checkpoints[0]?.gold).toBeNull();
    expect(result.winRates.map((rate) => [rate.checkpoint, rate.opponent])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    const forward = result.winRates[0]!;
    const backward = result.winRates[1]!;
    expect(backward.wins).toBe(forward.losses);
    expect(backward.winRate).toBeCloseTo(1 - forward.winRate, 12);
    expect(output.meta).toMatchObject({ id: 'eval-reward', promptCount: 3, gold: false, samples: 2 });
    expect(output.meta.summary[1]?.winRate).toBe(forward.winRate);

    const handlers = createEvaluationHandlers({ workspace });
    const listed = await handlers['eval:list']({});
    expect(listed.map((meta) => meta.id)).toContain('eval-reward');
    EvaluationMeta.array().parse(listed);
    const shipped = await handlers['eval:get']({ id: 'eval-reward' });
    expect(shipped.result.checkpoints.every((checkpoint) => checkpoint.samples.length === 0)).toBe(true);
    expect(shipped.result.winRates).toEqual(result.winRates);

    const one = await handlers['eval:responses']({
      id: 'eval-reward',
      checkpoint: 1,
      prompt: 2,
      sample: 1,
      offset: 0,
      limit: 50,
      opponent: 0,
    });
    expect(one.total).toBe(1);
    const row = one.rows[0]!;
    const expected = result.checkpoints[1]!.samples.find((sample) => sample.prompt === 2 && sample.sample === 1);
    expect(row.text).toBe(expected?.text);
    expect(row.messages).toEqual(result.prompts[2]);
    expect(row.opponent?.text).toBe(result.checkpoints[0]!.samples.find((s) => s.prompt === 2 && s.sample === 1)?.text);
    const wins = await handlers['eval:responses']({
      id: 'eval-reward',
      checkpoint: 1,
      opponent: 0,
      outcome: 'win',
      offset: 0,
      limit: 50,
    });
    expect(wins.total).toBe(forward.wins);
    const edges = result.histogramEdges;
    const firstBin = await handlers['eval:responses']({
      id: 'eval-reward',
      checkpoint: 0,
      minReward: edges[0],
      maxReward: edges[1],
      offset: 0,
      limit: 50,
    });
    expect(firstBin.total).toBe(result.checkpoints[0]!.histogram[0]);
    await expect(handlers['eval:get']({ id: 'missing' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('judges held-out sim tasks with the checker, and refuses gold where there is none', async () => {
    const output = EvalRunResult.parse(
      await runEvaluation(
        {
          checkpoints: CHECKPOINTS.slice(0, 1),
          prompts: { kind: 'sim', count: 4, seed: 3 },
          reward: { kind: 'gold' },
          settings: { ...FAST, samples: 1 },
        },
        fakeContext(workspaceDir),
      ),
    );
    const result = EvaluationResult.parse(JSON.parse(await readFile(path.join(output.folder, 'result.json'), 'utf8')));
    expect(result.prompts).toHaveLength(4);
    const samples = result.checkpoints[0]!.samples;
    expect(samples.every((sample) => sample.reward === sample.gold && (sample.gold === 0 || sample.gold === 1))).toBe(
      true,
    );
    expect(result.checkpoints[0]?.gold?.successRate).toBe(samples.filter((sample) => sample.gold === 1).length / 4);
    expect(output.meta.gold).toBe(true);
    // Success by task group: each prompt's samples under its task's group, the counts adding up.
    const tasks = heldOutTasks(4, 3);
    const expected = new Map<string, { samples: number; successes: number }>();
    for (const sample of samples) {
      const group = taskGroup(tasks[sample.prompt]!);
      const entry = expected.get(group) ?? { samples: 0, successes: 0 };
      entry.samples += 1;
      entry.successes += sample.gold === 1 ? 1 : 0;
      expected.set(group, entry);
    }
    const byGroup = result.checkpoints[0]?.gold?.byGroup ?? [];
    expect(byGroup.map((entry) => entry.group)).toEqual([...expected.keys()].sort((a, b) => a.localeCompare(b)));
    for (const entry of byGroup) expect(entry).toEqual({ group: entry.group, ...expected.get(entry.group) });
    // Prompts without groups (a pair set's contexts) leave the result as it is.
    expect(withGoldByGroup(result, [undefined, 'a', 'b', 'c'])).toBe(result);
    expect(withGoldByGroup(result, ['a'])).toBe(result);

    await expect(
      runEvaluation(
        { checkpoints: CHECKPOINTS, prompts: { kind: 'pair-set', pairSet: PAIR_SET }, reward: { kind: 'gold' } },
        fakeContext(workspaceDir),
      ),
    ).rejects.toMatchObject({ code: 'eval_gold_unavailable' });
    await expect(
      runEvaluation(
        { checkpoints: [{ label: 'x', modelId: 'nope' }], prompts: { kind: 'sim' }, reward: { kind: 'gold' } },
        fakeContext(workspaceDir),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      runEvaluation(
        { id: 'eval-reward', checkpoints: CHECKPOINTS, prompts: { kind: 'sim' }, reward: { kind: 'gold' } },
        fakeContext(workspaceDir),
      ),
    ).rejects.toMatchObject({ code: 'evaluation_exists' });
    await expect(
      runEvaluation({ checkpoints: [], prompts: { kind: 'sim' }, reward: { kind: 'gold' } }, fakeContext(workspaceDir)),
    ).rejects.toMatchObject({ code: 'job_invalid_params' });
  });
});

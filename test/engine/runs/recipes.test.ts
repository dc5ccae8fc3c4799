/**
 * What each baseline trains on: SPIN pairs the logged SAT answer (chosen) with an unguided sample
 * (rejected); IterDPO ranks its candidates (one guided, one plain) with the likelihood judge or a
 * reward model and pairs the best with the worst; offline DPO trains the seed pairs against the base model. Plus the
 * pure pieces: the split, the selection rules, the phase plan, and refusals.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, RunPairRow, RunSampleRow, type AppFailure } from '../../../src-main/api/index.js';
import { selectBackend } from '../../../src-main/engine/backend.js';
import { RunFile } from '../../../src-main/engine/runs/files.js';
import { deviationNotes, planPhases, trainRun } from '../../../src-main/engine/runs/job.js';
import { RewardModel } from '../../../src-main/engine/eval/reward-model.js';
import { loadHfModel } from '../../../src-main/engine/model/model.js';
import { bestAndWorst, heldOutCount, select } from '../../../src-main/engine/runs/recipes.js';
import { loadTokenizer } from '../../../src-main/engine/text/index.js';
import type { PolicySample } from '../../../src-main/engine/runs/sampling.js';
import { fakeContext, removeWorkspaces, runWorkspace, sumPairs, tinyRunConfig } from './helpers.js';

let workspace: string;
const rows = async (runId: string, file: string) =>
  (await readFile(path.join(workspace, 'runs', runId, file), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
const pairsOf = async (runId: string, iteration: number) =>
  (await rows(runId, `iter-${iteration}/pairs.jsonl`)).map((row) => RunPairRow.parse(row));
const samplesOf = async (runId: string) => (await rows(runId, 'samples.jsonl')).map((row) => RunSampleRow.parse(row));
const oneIteration = { iterations: 1, seedWarmStart: false } as const;

beforeAll(async () => {
  await selectBackend('wasm');
  workspace = await runWorkspace();
});
afterAll(removeWorkspaces);

describe('baseline recipes', () => {
  it('SPIN: the logged SAT answer is chosen, an unguided sample of the policy is rejected', async () => {
    await trainRun(
      { config: tinyRunConfig({ name: 'spin run', method: 'spin', ...oneIteration }), runId: 'spin' },
      fakeContext(workspace),
    );
    const seeds = sumPairs().filter((pair) => pair.chosen !== undefined);
    const pairs = await pairsOf('spin', 1);
    const samples = await samplesOf('spin');
    expect(pairs.map((pair) => pair.sourceId)).toEqual(seeds.map((pair) => pair.id));
    expect(pairs.map((pair) => pair.split)).toEqual(['test', 'test', ...Array<string>(6).fill('train')]);
    pairs.forEach((pair, index) => {
      expect(pair.chosen[0]?.content).toBe(seeds[index]?.chosen?.content);
      expect(pair.rejected[0]?.content).toBe(samples[index]?.completion);
      expect(samples[index]).toMatchObject({ iteration: 1, sourceId: seeds[index]?.id, role: 'rejected', score: null });
      // Unguided: the chat-templated context, without y⁻, the feedback or the instruction.
      expect(samples[index]?.prompt).not.toContain('Based on the user');
      expect(samples[index]?.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
    });
    const run = RunFile.parse(JSON.parse(await readFile(path.join(workspace, 'runs', 'spin', 'run.json'), 'utf8')));
    expect(run.notes.some((note) => note.includes('SPIN’s real SAT answers are the pair set’s seed pairs'))).toBe(true);
  });

  it('IterDPO: two candidates per prompt (guided, then plain) judged by likelihood; best chosen, worst rejected', async () => {
    await trainRun(
      { config: tinyRunConfig({ name: 'iterdpo run', method: 'iterdpo', ...oneIteration }), runId: 'iterdpo' },
      fakeContext(workspace),
    );
    const records = sumPairs();
    const pairs = await pairsOf('iterdpo', 1);
    const samples = await samplesOf('iterdpo');
    expect(pairs.map((pair) => pair.sourceId)).toEqual(records.map((pair) => pair.id));
    expect(samples).toHaveLength(2 * records.length);
    for (const pair of pairs) {
      const candidates = samples.filter((sample) => sample.sourceId === pair.sourceId);
      expect(candidates.map((sample) => sample.role)).toEqual(['candidate', 'candidate']);
      expect(candidates[0]?.prompt).toContain('Based on the user');
      expect(candidates[1]?.prompt).not.toContain('Based on the user');
      const [first, second] = candidates.map((sample) => sample.score as number);
      expect(Number.isFinite(first) && Number.isFinite(second)).toBe(true);
      // The judge's mean log-prob per token is negative; the higher one is chosen.
      expect(Math.max(first!, second!)).toBeLessThan(0);
      const [best, worst] = first! >= second! ? candidates : [...candidates].reverse();
      expect(pair.chosen[0]?.content).toBe(best?.completion);
      expect(pair.rejected[0]?.content).toBe(worst?.completion);
    }
  });

  it('offline DPO: the seed pairs again each iteration, no sampling, the base model as reference', async () => {
    const result = await trainRun(
      { config: tinyRunConfig({ name: 'dpo run', method: 'dpo', iterations: 2 }), runId: 'dpo' },
      fakeContext(workspace),
    );
    expect(result).toMatchObject({ modelIds: ['dpo-run-iter1', 'dpo-run-iter2'] });
    expect(await pairsOf('dpo', 2)).toEqual(
      (await pairsOf('dpo', 1)).map((pair) => ({ ...pair, id: pair.id.replace(/^i1-/, 'i2-') })),
    );
    const metrics = await rows('dpo', 'metrics.jsonl');
    // Iteration 2's reference is still the base model, so its first step already has a nonzero margin.
    const firstOfTwo = metrics.find((row) => (row as { iteration: number }).iteration === 2) as Record<string, number>;
    expect(Math.abs(firstOfTwo['rewards/margins'] as number)).toBeGreaterThan(0);
  });

  it('IterDPO with a reward-model judge: each candidate scored by the reward model', async () => {
    const base = path.join(workspace, 'models', 'tiny-base');
    const rewardModel = RewardModel.create(await loadHfModel(base), await loadTokenizer(base), { seed: 5 });
    await rewardModel.save(path.join(workspace, 'models', 'judge'));
    await trainRun(
      {
        config: tinyRunConfig({
          name: 'judged run',
          method: 'iterdpo',
          judge: { kind: 'reward-model', modelId: 'judge' },
          ...oneIteration,
        }),
        runId: 'judged',
      },
      fakeContext(workspace),
    );
    const samples = await samplesOf('judged');
    const contexts = new Map(
      sumPairs().map((pair) => [pair.id, pair.context.map(({ role, content }) => ({ role, content }))]),
    );
    const expected = await rewardModel.scoreResponses(
      samples.map((sample) => contexts.get(sample.sourceId) ?? []),
      samples.map((sample) => sample.completion),
    );
    rewardModel.dispose();
    samples.forEach((sample, index) => expect(sample.score).toBeCloseTo(expected[index] as number, 4));
    for (const pair of await pairsOf('judged', 1)) {
      const [first, second] = samples.filter((sample) => sample.sourceId === pair.sourceId);
      const [best, worst] = (first?.score ?? 0) >= (second?.score ?? 0) ? [first, second] : [second, first];
      expect([pair.chosen[0]?.content, pair.rejected[0]?.content]).toEqual([best?.completion, worst?.completion]);
    }
  });

  it('refuses a missing reward model, a run with nothing to train, a missing pair set and bad params', async () => {
    const judged = await trainRun(
      { config: tinyRunConfig({ method: 'iterdpo', judge: { kind: 'reward-model', modelId: 'no-such-model' } }) },
      fakeContext(workspace),
    ).catch((error: unknown) => error as AppFailure);
    expect(judged).toMatchObject({ code: 'not_found' });
    const empty = await trainRun(
      { config: tinyRunConfig({ iterations: 0, seedWarmStart: false }) },
      fakeContext(workspace),
    ).catch((error: unknown) => error as AppFailure);
    expect(empty).toMatchObject({ code: 'job_invalid_params' });
    const missing = await trainRun({ config: tinyRunConfig({ pairSet: 'nope' }) }, fakeContext(workspace)).catch(
      (error: unknown) => error as AppFailure,
    );
    expect(missing).toMatchObject({ code: 'not_found' });
    const invalid = await trainRun({ config: { name: 'x' } }, fakeContext(workspace)).catch(
      (error: unknown) => error as AppFailure,
    );
    expect(invalid).toMatchObject({ code: 'job_invalid_params' });
  });
});

describe('recipe pieces', () => {
  const sample = (text: string): PolicySample => ({ sourceId: 's', prompt: '', text, finishReason: 'eos' });

  it('holds out min(testSize, ⌊testFraction · n⌋) pairs', () => {
    expect(heldOutCount(16, 100, 0.2)).toBe(3);
    expect(heldOutCount(1000, 100, 0.2)).toBe(100);
    expect(heldOutCount(4, 100, 0.2)).toBe(0);
    expect(heldOutCount(10, 0, 0.5)).toBe(0);
  });

  it('selects by rule, taking the first on ties', () => {
    const samples = [sample('bb'), sample('a'), sample('ccc'), sample('dd')];
    expect(select(samples, null, 'none')).toBe(0);
    expect(select(samples, null, 'longest')).toBe(2);
    expect(select(samples, null, 'shortest')).toBe(1);
    expect(select(samples, [-3, -1, -2, -1], 'judge-best')).toBe(1);
    expect(bestAndWorst([-2, -1, -3])).toEqual([1, 2]);
    expect(bestAndWorst([-1, -1])).toEqual([0, 1]);
  });

  it('plans the warm start then K iterations (offline DPO: no warm start), and notes the deviations', () => {
    const config = (input: Record<string, unknown>) =>
      RunConfig.parse({ name: 'r', method: 'drift', baseModelId: 'm', pairSet: 's', ...input });
    expect(
      planPhases(config({})).map((phase) => [phase.iteration, phase.offline, phase.epochs, phase.previous]),
    ).toEqual([
      [0, true, 3, null],
      [1, false, 1, 0],
      [2, false, 1, 1],
    ]);
    expect(planPhases(config({ method: 'dpo', iterations: 1 })).map((phase) => phase.iteration)).toEqual([1]);
    expect(planPhases(config({ seedWarmStart: false, iterations: 1 }))[0]?.previous).toBeNull();
    const notes = deviationNotes(config({ method: 'drift', generation: { guided: false } }));
    expect(notes.some((note) => note.startsWith('Unguided ablation'))).toBe(true);
    expect(notes.some((note) => note.includes('learning rate 0.00005 (paper: 5e-7'))).toBe(true);
  });
});

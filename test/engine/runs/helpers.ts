/**
 * A tiny preference-run fixture: a workspace with a tiny Llama (random weights) and its ChatML
 * tokenizer as the workspace model `tiny-base`, and a frozen pair set `sums@v1` of DSAT pairs about
 * sums. Every logged DSAT response is the same unhelpful refusal, so lowering its likelihood is
 * learnable from a few steps and shows on the held-out pairs; half the pairs are seed pairs whose
 * chosen answer is the correct sum. A fake job context runs the `run.train` handler in-process.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo, CuratedPair, PairSetManifest, RunConfigInput } from '../../../src-main/api/index.js';
import { AppFailure, RunJobOutput } from '../../../src-main/api/index.js';
import type { JobContext } from '../../../src-main/engine/jobs/types.js';
import { llamaConfig } from '../../../src-main/engine/model/config.js';
import { createModel, saveHfModel } from '../../../src-main/engine/model/model.js';
import {
  DEFAULT_CHAT_TEMPLATE,
  applyChatTemplate,
  renderGuidedPrompt,
  trainByteLevelBpe,
} from '../../../src-main/engine/text/index.js';

export const BASE_MODEL = 'tiny-base';
export const PAIR_SET = 'sums';
const REFUSAL = 'No idea, sorry.';
const FEEDBACK = 'That is not an answer, try again.';

/** The pair set's rows: `count` DSAT pairs, every other one a seed pair with the correct sum as chosen. */
export function sumPairs(count = 16): CuratedPair[] {
  return Array.from({ length: count }, (_, index) => {
    const [a, b] = [index + 2, (index * 5) % 9];
    const seed = index % 2 === 0;
    const context = [
      ...(index % 4 === 1 ? [{ role: 'system' as const, content: 'You add numbers.', turn: 0 }] : []),
      { role: 'user' as const, content: `What is ${a} plus ${b}?`, turn: index % 4 === 1 ? 1 : 0 },
    ];
    const turn = context.length;
    const chosen = `${a} plus ${b} is ${a + b}.`;
    return {
      id: `pair-${String(index).padStart(2, '0')}`,
      datasetId: 'sums',
      conversationId: `c${index}`,
      kind: seed ? 'seed' : 'dsat',
      source: 'mined',
      context,
      rejected: { role: 'assistant', content: REFUSAL, turn },
      feedback: { role: 'user', content: FEEDBACK, turn: turn + 1 },
      ...(seed ? { chosen: { role: 'assistant' as const, content: chosen, turn: turn + 2 }, satTurn: turn + 3 } : {}),
      categories: ['negative_feedback'],
      confidence: 0.9,
      detector: 'rules',
      language: 'en',
      lengths: {
        context: context.reduce((sum, message) => sum + message.content.length, 0),
        rejected: REFUSAL.length,
        feedback: FEEDBACK.length,
        ...(seed ? { chosen: chosen.length } : {}),
      },
      evidence: [],
      status: 'accepted',
      tags: [],
      note: '',
      edited: false,
    } satisfies CuratedPair;
  });
}

/** Writes `pairsets/<name>/v<version>/` as freezing does (pairs.jsonl and its manifest with the checksum). */
export async function writePairSet(workspace: string, pairs: readonly CuratedPair[], name = PAIR_SET, version = 1) {
  const folder = path.join(workspace, 'pairsets', name, `v${version}`);
  await mkdir(folder, { recursive: true });
  const text = pairs.map((pair) => `${JSON.stringify(pair)}\n`).join('');
  await writeFile(path.join(folder, 'pairs.jsonl'), text);
  const manifest: PairSetManifest = {
    id: `${name}@v${version}`,
    name,
    version,
    datasetId: 'sums',
    filter: {},
    createdAt: new Date().toISOString(),
    checksum: createHash('sha256').update(text).digest('hex'),
    counts: {
      pairs: pairs.length,
      seedPairs: pairs.filter((pair) => pair.kind === 'seed').length,
      byCategory: {},
      byStatus: {},
    },
    pairIds: pairs.map((pair) => pair.id),
  };
  await writeFile(path.join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Writes the tiny model and its tokenizer as `models/<id>/`. */
export async function writeBaseModel(workspace: string, pairs: readonly CuratedPair[], id = BASE_MODEL) {
  const texts = pairs.flatMap((pair) => [
    applyChatTemplate([...pair.context, pair.rejected, pair.feedback, ...(pair.chosen ? [pair.chosen] : [])], {
      template: DEFAULT_CHAT_TEMPLATE,
      eosToken: '<|im_end|>',
    }),
    renderGuidedPrompt(pair.context, pair.rejected.content, pair.feedback.content),
  ]);
  const tokenizer = trainByteLevelBpe(texts, { vocabSize: 300, minFrequency: 1 });
  const { bos, eos, pad } = tokenizer.specialTokens;
  const config = llamaConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: 32,
    intermediateSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    maxPositionEmbeddings: 160,
    tieWordEmbeddings: true,
    bosTokenId: bos?.id ?? null,
    eosTokenId: eos?.id ?? null,
    padTokenId: pad?.id ?? null,
  });
  const model = createModel(config, { seed: 3 });
  const { tokenizer: tokenizerJson, config: tokenizerConfig } = tokenizer.toJSON();
  await saveHfModel(model, path.join(workspace, 'models', id), {
    extraFiles: {
      'tokenizer.json': `${JSON.stringify(tokenizerJson)}\n`,
      'tokenizer_config.json': `${JSON.stringify(tokenizerConfig, null, 2)}\n`,
    },
  });
  model.dispose();
}

const folders: string[] = [];

/** A new workspace folder with the base model and the pair set. */
export async function runWorkspace(pairs = sumPairs()): Promise<string> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'drift-runs-'));
  folders.push(workspace);
  await writeBaseModel(workspace, pairs);
  await writePairSet(workspace, pairs);
  return workspace;
}

export async function removeWorkspaces(): Promise<void> {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

/** A small, fast run config; `overrides` replace top-level keys and merge into the nested objects. */
export function tinyRunConfig(
  overrides: Partial<Omit<RunConfigInput, 'hyperparameters' | 'generation'>> & {
    hyperparameters?: Record<string, unknown>;
    generation?: Record<string, unknown>;
  } = {},
): RunConfigInput {
  const { hyperparameters, generation, ...rest } = overrides;
  return {
    name: 'tiny drift',
    method: 'drift',
    baseModelId: BASE_MODEL,
    pairSet: PAIR_SET,
    iterations: 2,
    testSize: 4,
    testFraction: 0.25,
    checkpointEvery: 2,
    seed: 7,
    ...rest,
    hyperparameters: {
      optimizer: 'adamw',
      learningRate: 3e-3,
      warmupRatio: 0,
      batchSize: 4,
      rpoAlpha: 0,
      maxLength: 96,
      maxPromptLength: 64,
      seedEpochs: 2,
      iterationEpochs: 2,
      ...hyperparameters,
    },
    generation: { maxNewTokens: 8, batchSize: 8, ...generation },
  } as RunConfigInput;
}

export const TEST_BACKEND: BackendInfo = {
  name: 'cpu',
  tfjsVersion: 'test',
  gpu: false,
  threads: 1,
  attempts: [],
  shims: [],
};

/**
 * A job context as the worker builds it, recording outputs, progress phases and their messages. `onOutput` sees
 * every output after it is recorded, with the controller behind `signal` (to cancel at a chosen
 * point); what it throws is thrown inside the job (a crash at that point).
 */
export function fakeContext(
  workspaceDir: string,
  onOutput?: (output: RunJobOutput, controller: AbortController) => void,
): JobContext & { outputs: RunJobOutput[]; phases: string[]; messages: string[]; controller: AbortController } {
  const controller = new AbortController();
  const outputs: RunJobOutput[] = [];
  const phases: string[] = [];
  const messages: string[] = [];
  return {
    jobId: 'job-test',
    workspaceDir,
    backend: TEST_BACKEND,
    signal: controller.signal,
    outputs,
    phases,
    messages,
    controller,
    progress: (phase, _done, _total, message) => {
      if (phases.at(-1) !== phase) phases.push(phase);
      const line = `${phase}: ${message ?? ''}`;
      if (messages.at(-1) !== line) messages.push(line);
    },
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new AppFailure('job_cancelled');
    },
    output: (data) => {
      const output = RunJobOutput.parse(data);
      outputs.push(output);
      onOutput?.(output, controller);
    },
  };
}

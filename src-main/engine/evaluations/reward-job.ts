/**
 * The `reward.train` job (worker side) and its completion (host side): a Bradley–Terry reward
 * model (engine/eval/bradley-terry.ts) on preference pairs read from a pair set, started from a
 * workspace model's weights with a fresh scalar head, saved as an HF `*ForSequenceClassification`
 * folder in `<workspace>/models/<id>/` and added to the catalog with role `reward`.
 *
 * Pairs (params.pairs): `seed` — a seed pair's chosen answer (the later one that drew SAT) over its
 * DSAT response, under the DSAT context; `sat-vs-dsat` — a SAT answer of the dataset (sat.jsonl)
 * over each DSAT response under the DSAT context: the SAT answer of the same conversation where
 * there is one, else of the same last user turn, else one drawn with the seed (a weaker signal:
 * it then compares answers to different requests).
 */
import { rm } from 'node:fs/promises';
import {
  AppFailure,
  RewardTrainParams,
  SatRecord,
  type CuratedPair,
  type ModelSummary,
  type RewardTrainResult,
} from '../../api/index.js';
import type { PreferencePair } from '../eval/index.js';
import { RewardModel, trainBradleyTerry } from '../eval/index.js';
import { modelEntryOf, registerModel } from '../model/completion.js';
import { Random, countParameters, loadHfModel, toHfConfig } from '../model/index.js';
import { listModelFiles, newModelId, summarizeTokenizer } from '../model/store.js';
import { readPairSet } from '../curation/pairsets.js';
import { resolvePairSetOnDisk } from '../runs/records.js';
import { datasetFile } from '../signals/files.js';
import { readJsonlLines } from '../signals/jsonl.js';
import type { JobCompletion, JobHandler } from '../jobs/types.js';
import { errorCode } from '../workspace/atomic.js';
import { modelDir } from '../workspace/layout.js';
import { loadOptionalTokenizer } from '../text/index.js';

/** What the worker returns; the completion adds the catalog entry. */
type RewardTrainOutput = Omit<RewardTrainResult, 'entry'> & { summary: ModelSummary; baseModel: string };

export const trainRewardModel: JobHandler = async (params, context) => {
  const parsed = RewardTrainParams.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  const request = parsed.data;
  const { workspaceDir } = context;

  context.progress('reading pairs', 0, 1);
  const { entry: pairSet } = await resolvePairSetOnDisk(workspaceDir, request.pairSet);
  const curated: CuratedPair[] = [];
  for await (const pair of readPairSet(workspaceDir, pairSet)) if (pair.status !== 'rejected') curated.push(pair);
  const seedPairs = request.pairs.includes('seed') ? seedPreferences(curated) : [];
  const satPairs = request.pairs.includes('sat-vs-dsat')
    ? satOverDsat(curated, await readSatRecords(datasetFile(workspaceDir, pairSet.datasetId, 'sat')), request.seed)
    : [];
  const pairs = [...seedPairs, ...satPairs];
  if (pairs.length < 2) {
    throw new AppFailure(
      'training_data_invalid',
      `Pair set ${pairSet.id} gives ${pairs.length} preference pairs (${request.pairs.join(' + ')}); a reward model needs at least 2.`,
    );
  }
  context.throwIfCancelled();

  context.progress('loading model', 0, 1);
  const baseFolder = modelDir(workspaceDir, request.modelId);
  const tokenizer = await loadOptionalTokenizer(baseFolder);
  if (tokenizer === null) {
    throw new AppFailure('model_tokenizer_missing', `Model ${request.modelId} has no tokenizer to encode pairs with.`);
  }
  const backbone = await loadHfModel(baseFolder, { trainable: true });
  const model = RewardModel.create(backbone, tokenizer, { seed: request.seed, maxLength: request.maxLength });
  const name = request.name ?? `${request.modelId}-reward`;
  const modelId = await newModelId(workspaceDir, name);
  const folder = modelDir(workspaceDir, modelId);
  try {
    const report = await trainBradleyTerry(model, pairs, {
      epochs: request.epochs,
      batchSize: request.batchSize,
      learningRate: request.learningRate,
      heldOutFraction: request.heldOutFraction,
      seed: request.seed,
      signal: context.signal,
      onStep: (step) =>
        context.progress(
          'training',
          step.step,
          step.totalSteps,
          `loss ${step.loss.toFixed(4)}, accuracy ${step.accuracy.toFixed(2)}`,
        ),
    });
    context.progress('saving', 0, 1);
    await model.save(folder);
    const config = backbone.config;
    const files = await listModelFiles(folder);
    const summary: ModelSummary = {
      architecture: `${(toHfConfig(config) as { architectures: string[] }).architectures[0]?.replace(/(ForCausalLM|LMHeadModel)$/, '')}ForSequenceClassification`,
      modelType: config.modelType,
      parameters: countParameters(backbone) + config.hiddenSize,
      dtype: 'float32',
      vocabSize: config.vocabSize,
      contextLength: config.maxPositionEmbeddings,
      hiddenSize: config.hiddenSize,
      layers: config.numHiddenLayers,
      tokenizer: summarizeTokenizer(tokenizer),
      sizeBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    };
    return {
      modelId,
      name,
      folder,
      pairSet: pairSet.id,
      pairCounts: { seed: seedPairs.length, satVsDsat: satPairs.length },
      ...report,
      summary,
      baseModel: request.modelId,
    } satisfies RewardTrainOutput;
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  } finally {
    model.dispose();
  }
};

/** Seed pairs: the answer that drew SAT over the DSAT response. */
export function seedPreferences(pairs: readonly CuratedPair[]): PreferencePair[] {
  return pairs.flatMap((pair) =>
    pair.kind === 'seed' && pair.chosen !== undefined
      ? [{ prompt: messagesOf(pair), chosen: pair.chosen.content, rejected: pair.rejected.content }]
      : [],
  );
}

/** Each DSAT response under a SAT answer: of its conversation, else of the same request, else drawn. */
export function satOverDsat(
  pairs: readonly CuratedPair[],
  satRecords: readonly SatRecord[],
  seed: number,
): PreferencePair[] {
  if (satRecords.length === 0) return [];
  const lastUser = (messages: readonly { role: string; content: string }[]) =>
    messages.findLast((message) => message.role === 'user')?.content ?? '';
  const byConversation = new Map(satRecords.map((record) => [record.conversationId, record]));
  const byRequest = new Map(satRecords.map((record) => [lastUser(record.context), record]));
  const random = new Random(seed, 0x5a7);
  return pairs.map((pair) => {
    const record =
      byConversation.get(pair.conversationId) ??
      byRequest.get(lastUser(pair.context)) ??
      (satRecords[random.nextInt(satRecords.length)] as SatRecord);
    return { prompt: messagesOf(pair), chosen: record.response.content, rejected: pair.rejected.content };
  });
}

function messagesOf(pair: CuratedPair): { role: string; content: string }[] {
  return pair.context.map(({ role, content }) => ({ role, content }));
}

async function readSatRecords(file: string): Promise<SatRecord[]> {
  const records: SatRecord[] = [];
  try {
    for await (const line of readJsonlLines(file)) records.push(SatRecord.parse(JSON.parse(line.text)));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  return records;
}

/** Host side: adds the reward model to the catalog (role `reward`). */
export const completeRewardTraining: JobCompletion = async (_job, result, host) => {
  const { summary, baseModel, ...trained } = result as RewardTrainOutput;
  const entry = {
    ...modelEntryOf(trained.modelId, trained.name, summary, {
      origin: 'trained',
      source: `reward:${trained.pairSet}`,
      baseModel,
    }),
    role: 'reward' as const,
  };
  await registerModel(entry, host);
  return { ...trained, entry } satisfies RewardTrainResult;
};

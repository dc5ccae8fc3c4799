/**
 * The `signals.train` job: collects labelled turns from datasets (imported SAT/DSAT labels and KTO
 * labels, or the curator's accepted and rejected pairs), holds out a share of the conversations,
 * trains the classifier (model.ts), reports held-out accuracy against always answering the
 * majority class, and saves it under `<workspace>/classifiers/<id>/`.
 */
import { access } from 'node:fs/promises';
import {
  AppFailure,
  CATEGORIES,
  TrainClassifierParams,
  type ClassifierInfo,
  type Conversation,
  type DsatPair,
  type HeldOutMetrics,
} from '../../../api/index.js';
import { DecisionStore } from '../../curation/decisions.js';
import type { JobHandler } from '../../jobs/types.js';
import { hasDsat, hasSat } from '../categories.js';
import { datasetFile } from '../files.js';
import { readJsonlLines } from '../jsonl.js';
import { LABEL_RULES, LabelsDetector } from '../labels.js';
import { hashString } from '../text.js';
import { previousUserTurn, timelineOf } from '../types.js';
import { featurize } from './features.js';
import {
  CATEGORY_OFFSET,
  DSAT_OUTPUT,
  OUTPUT_COUNT,
  predict,
  SAT_OUTPUT,
  trainClassifier,
  type Example,
} from './model.js';
import { saveClassifier } from './store.js';

interface Collected {
  examples: Example[];
  categoriesSeen: boolean;
  finalAnswers: boolean;
}

function emptyExample(features: Example['features'], group: string): Example {
  return { features, targets: new Float32Array(OUTPUT_COUNT), mask: new Float32Array(OUTPUT_COUNT), group };
}

async function fromLabels(
  workspaceDir: string,
  datasetId: string,
  buckets: number,
  collected: Collected,
  signal: AbortSignal,
): Promise<void> {
  const labels = new LabelsDetector();
  for await (const line of readJsonlLines(datasetFile(workspaceDir, datasetId, 'conversations'), signal)) {
    let conversation: Conversation;
    try {
      conversation = JSON.parse(line.text) as Conversation;
    } catch {
      continue;
    }
    if (!Array.isArray(conversation?.messages)) continue;
    conversation.metadata ??= {};
    const timeline = timelineOf(conversation);
    for (const label of labels.detect(conversation)) {
      const user = timeline[label.turn]?.role === 'user' ? timeline[label.turn]!.content : null;
      const previous = previousUserTurn(timeline, label.judgedTurn);
      const features = featurize(
        {
          user,
          answer: timeline[label.judgedTurn]?.content ?? null,
          previousRequest: previous === undefined ? undefined : timeline[previous]?.content,
        },
        buckets,
      );
      const example = emptyExample(features, `${datasetId}/${conversation.id}`);
      example.targets[DSAT_OUTPUT] = hasDsat(label.polarity) ? 1 : 0;
      example.mask[DSAT_OUTPUT] = 1;
      // A DRIFT row says the feedback was dissatisfied; it does not say it was not also satisfied.
      if (label.evidence[0]?.rule !== LABEL_RULES.drift) {
        example.targets[SAT_OUTPUT] = hasSat(label.polarity) ? 1 : 0;
        example.mask[SAT_OUTPUT] = 1;
      }
      if (label.categories.length > 0) {
        collected.categoriesSeen = true;
        CATEGORIES.forEach((category, index) => {
          example.targets[CATEGORY_OFFSET + index] = label.categories.includes(category) ? 1 : 0;
          example.mask[CATEGORY_OFFSET + index] = 1;
        });
      }
      if (user === null) collected.finalAnswers = true;
      collected.examples.push(example);
    }
  }
}

async function fromDecisions(
  workspaceDir: string,
  datasetId: string,
  buckets: number,
  collected: Collected,
  signal: AbortSignal,
): Promise<void> {
  const decisions = await DecisionStore.open(datasetFile(workspaceDir, datasetId, 'decisions'));
  const pairsFile = datasetFile(workspaceDir, datasetId, 'pairs');
  try {
    await access(pairsFile);
  } catch {
    return;
  }
  for await (const line of readJsonlLines(pairsFile, signal)) {
    const pair = JSON.parse(line.text) as DsatPair;
    const status = decisions.get(pair.id).status;
    if (status === 'pending' || pair.feedback.metadata?.['generated'] === true) continue;
    const lastRequest = [...pair.context].reverse().find((message) => message.role === 'user')?.content;
    const features = featurize(
      { user: pair.feedback.content, answer: pair.rejected.content, previousRequest: lastRequest },
      buckets,
    );
    const example = emptyExample(features, `${datasetId}/${pair.conversationId}`);
    // Accepted: the feedback turn is dissatisfied with the rejected answer; rejected: it is not.
    example.targets[DSAT_OUTPUT] = status === 'accepted' ? 1 : 0;
    example.mask[DSAT_OUTPUT] = 1;
    collected.examples.push(example);
  }
}

function accuracy(examples: readonly Example[], probabilities: readonly Float64Array[], output: number): number | null {
  let known = 0;
  let right = 0;
  examples.forEach((example, index) => {
    if (example.mask[output] !== 1) return;
    known++;
    if (((probabilities[index]![output] ?? 0) >= 0.5 ? 1 : 0) === example.targets[output]) right++;
  });
  return known === 0 ? null : right / known;
}

/** Accuracy on `test` of always answering the class most frequent in `train`. */
function majorityAccuracy(train: readonly Example[], test: readonly Example[], output: number): number | null {
  let positives = 0;
  let known = 0;
  for (const example of train) {
    if (example.mask[output] !== 1) continue;
    known++;
    positives += example.targets[output] ?? 0;
  }
  const majority = known > 0 && positives * 2 > known ? 1 : 0;
  let testKnown = 0;
  let right = 0;
  for (const example of test) {
    if (example.mask[output] !== 1) continue;
    testKnown++;
    if (example.targets[output] === majority) right++;
  }
  return testKnown === 0 ? null : right / testKnown;
}

function hasBothClasses(examples: readonly Example[], output: number): boolean {
  let positive = false;
  let negative = false;
  for (const example of examples) {
    if (example.mask[output] !== 1) continue;
    if (example.targets[output] === 1) positive = true;
    else negative = true;
  }
  return positive && negative;
}

export const trainClassifierJob: JobHandler = async (rawParams, context) => {
  const parsed = TrainClassifierParams.safeParse(rawParams);
  if (!parsed.success) {
    throw new AppFailure(
      'job_invalid_params',
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  }
  const params = parsed.data;
  const buckets = 1 << params.bucketsLog2;
  const id =
    params.id ?? `classifier-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
  const collected: Collected = { examples: [], categoriesSeen: false, finalAnswers: false };
  context.progress('collecting', 0, params.datasetIds.length);
  for (const [position, datasetId] of params.datasetIds.entries()) {
    try {
      await access(datasetFile(context.workspaceDir, datasetId, 'conversations'));
    } catch {
      throw new AppFailure('not_found', `Dataset ${datasetId} has no conversations.jsonl.`);
    }
    if (params.source === 'labels')
      await fromLabels(context.workspaceDir, datasetId, buckets, collected, context.signal);
    else await fromDecisions(context.workspaceDir, datasetId, buckets, collected, context.signal);
    context.progress('collecting', position + 1, params.datasetIds.length);
  }
  const { examples } = collected;
  if (!hasBothClasses(examples, DSAT_OUTPUT) && !hasBothClasses(examples, SAT_OUTPUT)) {
    throw new AppFailure(
      'classifier_untrainable',
      `Found ${examples.length} labelled turns in ${params.datasetIds.join(', ')}, without both classes of SAT or DSAT.`,
    );
  }

  const threshold = Math.round(params.holdout * 1000);
  const heldOut = (example: Example) => hashString(`${params.seed}:${example.group}`) % 1000 < threshold;
  let train = examples.filter((example) => !heldOut(example));
  let test = examples.filter(heldOut);
  if (train.length === 0) [train, test] = [test, []];

  const result = await trainClassifier(train, {
    buckets,
    epochs: params.epochs,
    learningRate: params.learningRate,
    l2: params.l2,
    batchSize: params.batchSize,
    seed: params.seed,
    onEpoch: (epoch, loss) => {
      context.throwIfCancelled();
      context.progress('training', epoch + 1, params.epochs, `loss ${loss.toFixed(4)}`);
    },
  });
  const probabilities = test.map((example) => predict(result.weights, example.features));
  const metrics: HeldOutMetrics = {
    examples: test.length,
    satAccuracy: accuracy(test, probabilities, SAT_OUTPUT),
    dsatAccuracy: accuracy(test, probabilities, DSAT_OUTPUT),
    satMajority: majorityAccuracy(train, test, SAT_OUTPUT),
    dsatMajority: majorityAccuracy(train, test, DSAT_OUTPUT),
  };
  const info: ClassifierInfo = {
    id,
    createdAt: new Date().toISOString(),
    source: params.source,
    datasetIds: params.datasetIds,
    examples: examples.length,
    trainExamples: train.length,
    heldOut: metrics,
    categoriesTrained: collected.categoriesSeen,
    judgesFinalAnswers: collected.finalAnswers,
    buckets,
    epochs: params.epochs,
    seed: params.seed,
    finalLoss: result.finalLoss,
  };
  context.progress('saving', params.epochs, params.epochs);
  await saveClassifier(context.workspaceDir, info, result.weights);
  return info;
};

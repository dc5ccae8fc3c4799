/**
 * A trained classifier used as a detector. Its evidence is the features that pushed the deciding
 * output's logit up the most, with their spans in the user turn (or the answer).
 */
import type { Category, Conversation, Evidence, Signal } from '../../../api/index.js';
import { CATEGORIES } from '../../../api/index.js';
import { isDsatCategory, isSatCategory, polarityOf } from '../categories.js';
import { judgedTurnOf, previousUserTurn, timelineOf, type Detector } from '../types.js';
import { featurize, type FeatureVector } from './features.js';
import { CATEGORY_OFFSET, contributions, DSAT_OUTPUT, predict, SAT_OUTPUT } from './model.js';
import type { LoadedClassifier } from './store.js';

const EVIDENCE_FEATURES = 5;

export interface ClassifierVerdict {
  polarity: Signal['polarity'];
  categories: Category[];
  confidence: number;
  probabilities: Float64Array;
}

/** The classifier's verdict on one featurized turn. */
export function classify(classifier: LoadedClassifier, features: FeatureVector): ClassifierVerdict {
  const probabilities = predict(classifier.model, features);
  const sat = probabilities[SAT_OUTPUT] ?? 0;
  const dsat = probabilities[DSAT_OUTPUT] ?? 0;
  const polarity = polarityOf(sat >= 0.5, dsat >= 0.5);
  const categories: Category[] = [];
  if (classifier.info.categoriesTrained && polarity !== 'neither') {
    for (const side of ['sat', 'dsat'] as const) {
      if (polarity !== side && polarity !== 'both') continue;
      const onSide = CATEGORIES.map((category, index) => ({
        category,
        p: probabilities[CATEGORY_OFFSET + index] ?? 0,
      })).filter(({ category }) => (side === 'dsat' ? isDsatCategory(category) : isSatCategory(category)));
      const named = onSide.filter(({ p }) => p >= 0.5);
      const best = onSide.reduce((a, b) => (b.p > a.p ? b : a));
      for (const { category } of named.length > 0 ? named.sort((a, b) => b.p - a.p) : [best]) categories.push(category);
    }
  }
  const confidence =
    polarity === 'neither'
      ? 1 - Math.max(sat, dsat)
      : polarity === 'sat'
        ? sat
        : polarity === 'dsat'
          ? dsat
          : Math.max(sat, dsat);
  return { polarity, categories, confidence: Math.round(confidence * 1000) / 1000, probabilities };
}

/** The classifier detector. */
export class ClassifierDetector implements Detector {
  readonly name = 'classifier' as const;
  readonly #classifier: LoadedClassifier;

  constructor(classifier: LoadedClassifier) {
    this.#classifier = classifier;
  }

  detect(conversation: Conversation): Signal[] {
    const { info, model } = this.#classifier;
    const timeline = timelineOf(conversation);
    const signals: Signal[] = [];
    const judge = (turn: number, judged: number, user: string | null, previous?: string) => {
      const features = featurize(
        { user, answer: timeline[judged]?.content ?? null, previousRequest: previous },
        model.buckets,
      );
      const verdict = classify(this.#classifier, features);
      const evidence: Evidence[] = [];
      const outputs =
        verdict.polarity === 'both'
          ? [DSAT_OUTPUT, SAT_OUTPUT]
          : verdict.polarity === 'sat'
            ? [SAT_OUTPUT]
            : verdict.polarity === 'dsat'
              ? [DSAT_OUTPUT]
              : [];
      for (const output of outputs) {
        for (const { position, value } of contributions(model, features, output).slice(0, EVIDENCE_FEATURES)) {
          if (value <= 0) break;
          const span = features.spans[position];
          evidence.push({
            turn: span?.source === 'answer' ? judged : turn,
            start: span?.start ?? 0,
            end: span?.end ?? 0,
            feature: features.names[position] ?? '',
            weight: Math.round(value * 1000) / 1000,
          });
        }
      }
      signals.push({
        conversationId: conversation.id,
        turn,
        judgedTurn: judged,
        polarity: verdict.polarity,
        categories: verdict.categories,
        confidence: verdict.confidence,
        detector: 'classifier',
        evidence,
        classifierId: info.id,
      });
    };
    for (const message of timeline) {
      if (message.role !== 'user') continue;
      const judged = judgedTurnOf(timeline, message.turn);
      if (judged === undefined) continue;
      const previous = previousUserTurn(timeline, judged);
      judge(message.turn, judged, message.content, previous === undefined ? undefined : timeline[previous]?.content);
    }
    const last = timeline.at(-1);
    if (info.judgesFinalAnswers && last?.role === 'assistant') judge(timeline.length, last.turn, null);
    return signals;
  }
}

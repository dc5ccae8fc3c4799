/**
 * Imported labels taken as they are:
 * - per-turn SAT/DSAT flags on user messages (WildFeedback's sat_dsat_annotation, mapped by the
 *   importer into `labels.sat`/`labels.dsat`/`labels.judges`/`labels.categories`): both flags →
 *   `both` (WildFeedback's "mixed"), neither → `neither`;
 * - a DRIFT dsat_data row: its `user_preference` is a DSAT turn about its rejected answer;
 * - a KTO label on the last answer (`label`): `false` → DSAT, `true` → SAT, judged at the virtual
 *   turn `messages.length` because no user turn follows the answer.
 */
import type { Conversation, Signal } from '../../api/index.js';
import { parseCategoryName, polarityOf } from './categories.js';
import { judgedTurnOf, timelineOf, type Detector } from './types.js';

export const LABEL_RULES = {
  turn: 'labels.sat_dsat',
  drift: 'labels.drift_row',
  kto: 'labels.kto',
} as const;

function categoriesOf(names: readonly string[] | undefined): Signal['categories'] {
  const found = new Set<Signal['categories'][number]>();
  for (const name of names ?? []) {
    const category = parseCategoryName(name);
    if (category) found.add(category);
  }
  return [...found];
}

/** The labels detector; judges only turns the source labelled. */
export class LabelsDetector implements Detector {
  readonly name = 'labels' as const;

  detect(conversation: Conversation): Signal[] {
    const timeline = timelineOf(conversation);
    const signals: Signal[] = [];
    const driftFeedbackTurn = conversation.feedback && conversation.pair?.rejected ? timeline.length - 1 : undefined;
    for (const message of timeline) {
      if (message.role !== 'user') continue;
      const labels = message.labels;
      const labelled = labels !== undefined && (labels.sat !== undefined || labels.dsat !== undefined);
      if (labelled) {
        const judged = labels.judges ?? judgedTurnOf(timeline, message.turn);
        if (judged === undefined) continue;
        signals.push({
          conversationId: conversation.id,
          turn: message.turn,
          judgedTurn: judged,
          polarity: polarityOf(labels.sat === true, labels.dsat === true),
          categories: categoriesOf(labels.categories),
          confidence: 1,
          detector: 'labels',
          evidence: [{ turn: message.turn, start: 0, end: message.content.length, rule: LABEL_RULES.turn }],
        });
      } else if (message.turn === driftFeedbackTurn) {
        signals.push({
          conversationId: conversation.id,
          turn: message.turn,
          judgedTurn: message.turn - 1,
          polarity: 'dsat',
          categories: categoriesOf(labels?.categories),
          confidence: 1,
          detector: 'labels',
          evidence: [{ turn: message.turn, start: 0, end: message.content.length, rule: LABEL_RULES.drift }],
        });
      }
    }
    const last = timeline.at(-1);
    if (conversation.label !== undefined && last?.role === 'assistant' && driftFeedbackTurn === undefined) {
      signals.push({
        conversationId: conversation.id,
        turn: timeline.length,
        judgedTurn: last.turn,
        polarity: conversation.label ? 'sat' : 'dsat',
        categories: [],
        confidence: 1,
        detector: 'labels',
        evidence: [{ turn: last.turn, start: 0, end: last.content.length, rule: LABEL_RULES.kto }],
      });
    }
    return signals;
  }
}

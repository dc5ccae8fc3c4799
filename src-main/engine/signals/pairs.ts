/**
 * From a conversation and its signals to DRIFT's data (drift-paper.md §4.2, §7):
 * - DSAT pair: every message before the DSAT response (system messages kept) as context, that
 *   response as `rejected`, the user's dissatisfied turn as `feedback`;
 * - seed pair: a DSAT pair whose revision satisfied the user; that response is `chosen` (DRIFT's
 *   DSAT→SAT seed set, README: "a dissatisfied user turn is followed by a revised model response
 *   that satisfies the user"). The revision is followed answer by answer: the answer after the
 *   DSAT turn, then after each further DSAT turn on the same request, until a SAT turn. A turn
 *   with no confident signal, a neither, or a `no_engagement` DSAT (the user gave up and moved on:
 *   "forget it, now …") ends the chain without a seed pair: an answer thanked later may be the
 *   answer to another request;
 * - SAT record: context + the response the user was satisfied with (SPIN's real answers);
 * - the preference adapter: a preference row (UltraFeedback, HH-RLHF, ShareGPT pairs) becomes a
 *   DSAT pair with the lowest-rated completion as `rejected` (configurable, drift-paper.md §4.3:
 *   the UltraFeedback→DSAT mapping is not published), the highest as `chosen`, and the rater's
 *   critique or a generic instruction as `feedback`.
 * Pair ids are hashes of the dataset, the conversation and the turns, so they stay the same when
 * the dataset is mined again and curation decisions keep pointing at the right pairs.
 */
import { createHash } from 'node:crypto';
import type {
  Conversation,
  DsatPair,
  Message,
  PairSource,
  PreferenceAdapterOptions,
  SatRecord,
  Signal,
} from '../../api/index.js';
import { hasDsat, isDsatCategory } from './categories.js';
import { timelineOf } from './types.js';

export interface PairOptions {
  datasetId: string;
  minConfidence: number;
  seedPairs: boolean;
  satRecords: boolean;
  /** Whether imported labels are used (the labels detector was asked for). */
  labels: boolean;
  preference: PreferenceAdapterOptions;
  genericFeedback: string;
}

export interface BuiltPairs {
  pairs: DsatPair[];
  satRecords: SatRecord[];
}

/** Stable id of a pair: `p-` + 24 hex digits of sha256 over what identifies it. */
export function pairId(
  datasetId: string,
  conversationId: string,
  rejectedTurn: number,
  feedbackTurn: number,
  source: PairSource,
): string {
  const digest = createHash('sha256')
    .update([datasetId, conversationId, rejectedTurn, feedbackTurn, source].join('\u0000'))
    .digest('hex');
  return `p-${digest.slice(0, 24)}`;
}

function satRecordId(datasetId: string, conversationId: string, responseTurn: number): string {
  const digest = createHash('sha256')
    .update([datasetId, conversationId, responseTurn, 'sat'].join('\u0000'))
    .digest('hex');
  return `s-${digest.slice(0, 24)}`;
}

/**
 * For each judged turn, the signal of the first detector in `perDetector` order that judged it,
 * marked `primary`. Signals are copied, not changed.
 */
export function chooseSignals(perDetector: readonly (readonly Signal[])[]): Map<number, Signal> {
  const chosen = new Map<number, Signal>();
  for (const signals of perDetector) {
    for (const signal of signals) if (!chosen.has(signal.turn)) chosen.set(signal.turn, { ...signal, primary: true });
  }
  return chosen;
}

const characters = (messages: readonly Message[]) => messages.reduce((sum, message) => sum + message.content.length, 0);

function generatedFeedback(text: string, turn: number): Message {
  return { role: 'user', content: text, turn, metadata: { generated: true } };
}

/** A DSAT turn where the user moved on instead of asking for a revision. */
const movedOn = (signal: Signal) => signal.categories.includes('no_engagement');

/**
 * The revision that satisfied the user after the DSAT turn at `turn` (see the module comment), or
 * undefined when the chain of answers and DSAT turns on the request ends without a SAT.
 */
function satisfyingRevision(
  timeline: readonly Message[],
  chosen: ReadonlyMap<number, Signal>,
  turn: number,
  confident: (signal: Signal) => boolean,
): { message: Message; satTurn: number } | undefined {
  let at = turn;
  if (movedOn(chosen.get(turn)!)) return undefined;
  for (;;) {
    const answer = timeline.findIndex((message, index) => index > at && message.role === 'assistant');
    if (answer === -1) return undefined;
    const reaction = timeline.findIndex((message, index) => index > answer && message.role === 'user');
    const signal = reaction === -1 ? undefined : chosen.get(reaction);
    if (signal === undefined || !confident(signal) || signal.judgedTurn !== answer) return undefined;
    if (signal.polarity === 'sat') return { message: timeline[answer]!, satTurn: reaction };
    if (!hasDsat(signal.polarity) || movedOn(signal)) return undefined;
    at = reaction;
  }
}

/** Builds the DSAT pairs, seed pairs and SAT records of one conversation. */
export function buildPairs(
  conversation: Conversation,
  chosen: ReadonlyMap<number, Signal>,
  options: PairOptions,
): BuiltPairs {
  const timeline = timelineOf(conversation);
  const language = conversation.language ?? 'und';
  const pairs: DsatPair[] = [];
  const satRecords: SatRecord[] = [];
  const turns = [...chosen.keys()].sort((a, b) => a - b);
  const confident = (signal: Signal) => signal.confidence >= options.minConfidence;
  const isDriftRow = conversation.feedback !== undefined && conversation.pair?.rejected !== undefined;

  for (const turn of turns) {
    const signal = chosen.get(turn)!;
    if (!confident(signal)) continue;
    const rejected = timeline[signal.judgedTurn];
    if (rejected?.role !== 'assistant') continue;
    const context = timeline.slice(0, signal.judgedTurn);
    const userTurn = timeline[turn];
    const feedback = userTurn?.role === 'user' ? userTurn : generatedFeedback(options.genericFeedback, turn);

    if (hasDsat(signal.polarity)) {
      const drift = isDriftRow && turn === timeline.length - 1;
      const source: PairSource = drift ? 'drift' : signal.evidence[0]?.rule === 'labels.kto' ? 'kto' : 'mined';
      let chosenMessage: Message | undefined;
      let satTurn: number | undefined;
      if (drift) {
        chosenMessage = conversation.pair?.chosen;
      } else if (options.seedPairs) {
        const revision = satisfyingRevision(timeline, chosen, turn, confident);
        chosenMessage = revision?.message;
        satTurn = revision?.satTurn;
      }
      const pair: DsatPair = {
        id: pairId(options.datasetId, conversation.id, signal.judgedTurn, turn, source),
        datasetId: options.datasetId,
        conversationId: conversation.id,
        kind: chosenMessage ? 'seed' : 'dsat',
        source,
        context,
        rejected,
        feedback,
        categories: signal.categories.filter(isDsatCategory),
        confidence: signal.confidence,
        detector: signal.detector,
        language,
        lengths: { context: characters(context), rejected: rejected.content.length, feedback: feedback.content.length },
        evidence: signal.evidence.filter((evidence) => evidence.turn === turn),
      };
      if (chosenMessage) {
        pair.chosen = chosenMessage;
        pair.lengths.chosen = chosenMessage.content.length;
        if (satTurn !== undefined) pair.satTurn = satTurn;
      }
      pairs.push(pair);
    } else if (signal.polarity === 'sat' && options.satRecords) {
      const record: SatRecord = {
        id: satRecordId(options.datasetId, conversation.id, signal.judgedTurn),
        datasetId: options.datasetId,
        conversationId: conversation.id,
        context,
        response: rejected,
        categories: signal.categories,
        confidence: signal.confidence,
        detector: signal.detector,
        language,
      };
      if (userTurn?.role === 'user') record.feedback = userTurn;
      satRecords.push(record);
    }
  }

  if (options.labels && options.preference.enabled && conversation.pair && !conversation.feedback) {
    const pair = preferencePair(conversation, timeline, options);
    if (pair) pairs.push(pair);
  }
  return { pairs, satRecords };
}

interface RatedCompletion {
  text: string;
  score: number;
  critique?: string;
}

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** A completion's rating: overall, fine-grained, a plain score, or the mean of its annotation ratings. */
function completionScore(record: Record<string, unknown>): number | undefined {
  const direct =
    finite(record['overall_score']) ??
    finite(record['fine-grained_score']) ??
    finite(record['score']) ??
    finite(record['rating']);
  if (direct !== undefined) return direct;
  const annotations = record['annotations'];
  if (typeof annotations !== 'object' || annotations === null) return undefined;
  const ratings = Object.values(annotations as Record<string, unknown>)
    .map((annotation) =>
      typeof annotation === 'object' && annotation !== null
        ? Number((annotation as Record<string, unknown>)['Rating'])
        : Number.NaN,
    )
    .filter((rating) => Number.isFinite(rating));
  return ratings.length > 0 ? ratings.reduce((sum, rating) => sum + rating, 0) / ratings.length : undefined;
}

/** Raw UltraFeedback keeps its four rated completions; the importer leaves them in `metadata.completions`. */
function ratedCompletions(conversation: Conversation): RatedCompletion[] {
  const raw = conversation.metadata['completions'];
  if (!Array.isArray(raw)) return [];
  const found: RatedCompletion[] = [];
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const text = [record['response'], record['text'], record['content'], record['completion']].find(
      (value) => typeof value === 'string',
    );
    const score = completionScore(record);
    if (typeof text !== 'string' || typeof score !== 'number') continue;
    const critique = [record['critique'], record['rationale'], record['feedback']].find(
      (value) => typeof value === 'string',
    );
    found.push(typeof critique === 'string' ? { text, score, critique } : { text, score });
  }
  return found;
}

function preferencePair(
  conversation: Conversation,
  timeline: readonly Message[],
  options: PairOptions,
): DsatPair | undefined {
  const position = timeline.length;
  const rated = ratedCompletions(conversation);
  let rejected: Message | undefined;
  let chosen: Message | undefined;
  let critique: string | undefined;
  if (options.preference.rejected === 'lowest' && rated.length >= 2) {
    const sorted = [...rated].sort((a, b) => a.score - b.score);
    const lowest = sorted[0]!;
    const highest = sorted.at(-1)!;
    rejected = { role: 'assistant', content: lowest.text, turn: position, metadata: { score: lowest.score } };
    critique = lowest.critique;
    if (highest.score > lowest.score) {
      chosen = { role: 'assistant', content: highest.text, turn: position, metadata: { score: highest.score } };
    }
  } else {
    rejected = conversation.pair?.rejected;
    chosen = conversation.pair?.chosen;
    const metadataCritique = conversation.metadata['critique'];
    if (typeof metadataCritique === 'string') critique = metadataCritique;
  }
  if (!rejected || rejected.content.trim() === '') return undefined;
  if (options.preference.chosen === 'none') chosen = undefined;
  const feedbackText =
    options.preference.feedback === 'critique' && critique?.trim() ? critique : options.genericFeedback;
  const feedback = generatedFeedback(feedbackText, position + 1);
  const context = [...timeline];
  const pair: DsatPair = {
    id: pairId(options.datasetId, conversation.id, position, position + 1, 'preference'),
    datasetId: options.datasetId,
    conversationId: conversation.id,
    kind: chosen ? 'seed' : 'dsat',
    source: 'preference',
    context,
    rejected: { ...rejected, role: 'assistant', turn: position },
    feedback,
    categories: [],
    confidence: 1,
    detector: 'labels',
    language: conversation.language ?? 'und',
    lengths: { context: characters(context), rejected: rejected.content.length, feedback: feedback.content.length },
    evidence: [],
  };
  if (chosen) {
    pair.chosen = { ...chosen, role: 'assistant', turn: position };
    pair.lengths.chosen = chosen.content.length;
  }
  return pair;
}

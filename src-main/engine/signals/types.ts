/** What every detector implements, and the conversation view detectors and pair building share. */
import type { Conversation, DetectorName, Message, Signal } from '../../api/index.js';

/**
 * Judges the user turns of a conversation. Returns one signal per judged turn, `neither`
 * included, so that mining can tell "judged and found nothing" from "not judged" when it picks the
 * first detector (in the order the user gave) that judged a turn.
 */
export interface Detector {
  readonly name: DetectorName;
  detect(conversation: Conversation): Signal[];
}

/**
 * The conversation as one sequence whose index is the turn: `messages`, then for a DRIFT
 * dsat_data row its rejected answer and the user's feedback (turns `messages.length` and
 * `messages.length + 1`, the positions the canonical schema gives them). Preference rows keep
 * their two answers out: they are alternatives, not a continuation.
 */
export function timelineOf(conversation: Conversation): Message[] {
  const timeline = conversation.messages.map((message, index) =>
    message.turn === index ? message : { ...message, turn: index },
  );
  const rejected = conversation.pair?.rejected;
  if (conversation.feedback && rejected) {
    timeline.push({ ...rejected, role: 'assistant', turn: timeline.length });
    timeline.push({ ...conversation.feedback, role: 'user', turn: timeline.length });
  }
  return timeline;
}

/**
 * The assistant turn a user turn judges: the message right before it, when that is an assistant
 * message (system messages in between are skipped). Undefined for a first turn or a user turn
 * after another user turn.
 */
export function judgedTurnOf(timeline: readonly Message[], userTurn: number): number | undefined {
  for (let index = userTurn - 1; index >= 0; index--) {
    const role = timeline[index]?.role;
    if (role === 'system') continue;
    return role === 'assistant' ? index : undefined;
  }
  return undefined;
}

/** The last user turn before `turn`, if any. */
export function previousUserTurn(timeline: readonly Message[], turn: number): number | undefined {
  for (let index = turn - 1; index >= 0; index--) if (timeline[index]?.role === 'user') return index;
  return undefined;
}

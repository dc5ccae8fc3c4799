/**
 * Preference data: (context, chosen, rejected) pairs → token ids → right-padded batches of 2B rows
 * (the B chosen sequences, then the B rejected ones) with a mask over the completion tokens.
 *
 * Formatting is drift-paper.md §1.4 option (b), the standard layout: the prompt is the chat
 * template of the context with the generation prompt, the completion is the assistant's content
 * plus the template's end of turn (split as SFT splits a turn: renderPromptAndCompletion with
 * trainingChatFormat), each piece tokenized with no special tokens added. Truncation follows TRL's
 * DPOTrainer: the prompt keeps its end (at most maxPromptLength tokens), then each completion keeps
 * its start so that prompt + completion fits in maxLength.
 */
import { AppFailure } from '../../../api/index.js';
import type { ChatMessage, Tokenizer } from '../../text/index.js';
import { renderPromptAndCompletion } from '../../text/index.js';
import { trainingChatFormat } from '../data.js';

/** One preference pair before tokenization (TRL's conversational format, one assistant turn each). */
export interface PreferencePair {
  id: string;
  /** The context the two responses answer. */
  prompt: ChatMessage[];
  /** The preferred assistant response's content. */
  chosen: string;
  rejected: string;
}

/** One tokenized pair. The completions include the end-of-turn token(s) unless truncation cut them. */
export interface PreferenceExample {
  id: string;
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

export interface PreferenceTokenizationLimits {
  /** Longest prompt + completion in tokens. */
  maxLength: number;
  /** Longest prompt in tokens (a longer one keeps its end). */
  maxPromptLength: number;
}

export interface PreferenceTokenization {
  examples: PreferenceExample[];
  /** Pairs left out, with why. */
  skipped: { id: string; reason: string }[];
  /** Examples whose prompt or a completion was cut. */
  truncated: number;
}

/**
 * Tokenizes pairs (see the file's comment). A pair is skipped when its context renders no prompt
 * tokens or the chat template cannot split it.
 * @throws AppFailure `job_invalid_params` when the limits leave no room for a completion
 */
export function tokenizePreferencePairs(
  pairs: readonly PreferencePair[],
  tokenizer: Tokenizer,
  limits: PreferenceTokenizationLimits,
): PreferenceTokenization {
  const { maxLength, maxPromptLength } = limits;
  if (!Number.isSafeInteger(maxLength) || !Number.isSafeInteger(maxPromptLength) || maxPromptLength < 1) {
    throw new AppFailure('job_invalid_params', 'maxLength and maxPromptLength must be positive integers.');
  }
  if (maxPromptLength >= maxLength) {
    throw new AppFailure(
      'job_invalid_params',
      `maxPromptLength (${maxPromptLength}) must be less than maxLength (${maxLength}) to leave room for a completion.`,
    );
  }
  const format = trainingChatFormat(tokenizer);
  const encode = (text: string) => (text === '' ? [] : tokenizer.encode(text, { addSpecialTokens: false }));
  const examples: PreferenceExample[] = [];
  const skipped: { id: string; reason: string }[] = [];
  let truncated = 0;
  for (const pair of pairs) {
    let chosenSplit;
    let rejectedSplit;
    try {
      chosenSplit = renderPromptAndCompletion(pair.prompt, pair.chosen, format);
      rejectedSplit = renderPromptAndCompletion(pair.prompt, pair.rejected, format);
    } catch (error) {
      skipped.push({ id: pair.id, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const fullPrompt = encode(chosenSplit.prompt);
    if (fullPrompt.length === 0) {
      // The first completion token needs a token before it to be predicted from.
      skipped.push({ id: pair.id, reason: 'The context renders to an empty prompt.' });
      continue;
    }
    const fullChosen = encode(chosenSplit.completion);
    const fullRejected = encode(rejectedSplit.completion);
    // TRL: the prompt keeps its end, then the completions are cut to what maxLength leaves.
    const prompt = fullPrompt.slice(-maxPromptLength);
    const room = maxLength - prompt.length;
    const chosen = fullChosen.slice(0, room);
    const rejected = fullRejected.slice(0, room);
    if (chosen.length === 0 || rejected.length === 0) {
      skipped.push({ id: pair.id, reason: 'A completion has no tokens.' });
      continue;
    }
    if (
      prompt.length < fullPrompt.length ||
      chosen.length < fullChosen.length ||
      rejected.length < fullRejected.length
    ) {
      truncated++;
    }
    examples.push({ id: pair.id, prompt, chosen, rejected });
  }
  return { examples, skipped, truncated };
}

/**
 * Right-padded rows of prompt + completion for next-token log-probabilities: `inputIds` are each
 * sequence but its last token, `targets` the tokens that follow, `completionMask` 1 where a target
 * is a completion token, `attentionMask` 1 on real tokens. Plain arrays (a worker can take them).
 */
export interface SequenceTokenBatch {
  rows: number;
  /** Positions per row: the longest sequence minus one. */
  length: number;
  /** (rows × length) */
  inputIds: Int32Array;
  targets: Int32Array;
  attentionMask: Int32Array;
  completionMask: Float32Array;
  /** Completion tokens of each row (the row sums of completionMask). */
  completionTokens: Int32Array;
}

/** A {@link SequenceTokenBatch} of 2B rows: row i < B is pair i's chosen sequence, row B + i its rejected one. */
export interface PreferenceTokenBatch extends SequenceTokenBatch {
  /** B, the pairs in the batch. */
  pairs: number;
}

/**
 * Pads prompt + completion rows into one batch as long as its longest row (minus one).
 * Every prompt must have at least one token.
 */
export function sequenceBatch(
  prompts: readonly (readonly number[])[],
  completions: readonly (readonly number[])[],
  padId = 0,
): SequenceTokenBatch {
  const rows = prompts.length;
  const length = Math.max(
    1,
    ...prompts.map((prompt, row) => prompt.length + (completions[row] as readonly number[]).length - 1),
  );
  const batch: SequenceTokenBatch = {
    rows,
    length,
    inputIds: new Int32Array(rows * length).fill(padId),
    targets: new Int32Array(rows * length).fill(padId),
    attentionMask: new Int32Array(rows * length),
    completionMask: new Float32Array(rows * length),
    completionTokens: new Int32Array(rows),
  };
  for (let row = 0; row < rows; row++) {
    const prompt = prompts[row] as readonly number[];
    const ids = [...prompt, ...(completions[row] as readonly number[])];
    const offset = row * length;
    for (let position = 0; position < ids.length - 1; position++) {
      batch.inputIds[offset + position] = ids[position] as number;
      batch.targets[offset + position] = ids[position + 1] as number;
      batch.attentionMask[offset + position] = 1;
      // Target position + 1 is a completion token when it is past the prompt.
      if (position + 1 >= prompt.length) batch.completionMask[offset + position] = 1;
    }
    batch.completionTokens[row] = ids.length - Math.max(1, prompt.length);
  }
  return batch;
}

/** The pairs' chosen rows then their rejected rows, right padded with `padId`, with a completion mask. */
export function preferenceBatch(examples: readonly PreferenceExample[], padId: number): PreferenceTokenBatch {
  const prompts = examples.map((example) => example.prompt);
  return {
    ...sequenceBatch(
      [...prompts, ...prompts],
      [...examples.map((example) => example.chosen), ...examples.map((example) => example.rejected)],
      padId,
    ),
    pairs: examples.length,
  };
}

/**
 * Supervised fine-tuning data: conversations (a workspace dataset, or JSONL files in TRL's
 * "messages" or "prompt"/"completion" layouts) → token ids with a loss mask that covers assistant
 * tokens only → right-padded micro-batches, split into shards that threads compute in parallel.
 *
 * The loss mask follows TRL's assistant-only loss: every assistant turn is rendered with the chat
 * template, split into prompt and completion as renderPromptAndCompletion does (the completion
 * ends with the end-of-turn token, which is trained: the model must learn to stop), and only the
 * completions' tokens count. Pieces are tokenized one by one with no special tokens added, as
 * `apply_chat_template(tokenize=True)` does (templates write their own BOS).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import type { ChatFormat, ChatMessage, Tokenizer } from '../text/index.js';
import { DEFAULT_CHAT_TEMPLATE, renderPromptAndCompletion } from '../text/index.js';
import { CONVERSATIONS_FILE } from '../data/index.js';
import { readJsonLines } from '../workspace/atomic.js';
import { datasetDir } from '../workspace/layout.js';

/** One training record before tokenization. */
export type SftRecord = { messages: ChatMessage[] } | { prompt: string; completion: string };

/** One tokenized sequence: ids, and 1 where the token is one the loss is computed on (an assistant token). */
export interface SftExample {
  ids: number[];
  lossMask: number[];
}

/** What tokenization kept and dropped. */
export interface TokenizationStats {
  records: number;
  examples: number;
  /** Records with no assistant turn, or whose assistant tokens all fell past maxLength. */
  skipped: number;
  /** Examples cut at maxLength. */
  truncated: number;
  tokens: number;
  lossTokens: number;
}

/** `weight` 0 or 1 on a message, as OpenAI's chat fine-tuning format and axolotl write it (0: context only). */
const weightSchema = z.union([z.literal(0), z.literal(1)]);
const messageSchema = z.object({ role: z.string().min(1), content: z.string(), weight: weightSchema.optional() });
const recordSchema = z.union([
  z.object({ messages: z.array(messageSchema).min(1) }),
  z.object({ prompt: z.string(), completion: z.string() }),
]);

/**
 * Reads SFT records from a workspace dataset (its conversations.jsonl) or JSONL files whose lines
 * hold `{"messages": [{role, content[, weight]}, …]}` or `{"prompt": …, "completion": …}`. A message's
 * `weight` (0 or 1, OpenAI's chat fine-tuning format) is kept: 0 leaves an assistant turn out of the loss.
 * @throws AppFailure `training_data_invalid` naming the file and line; `not_found` for a missing dataset
 */
export async function readSftRecords(
  source: { datasetId: string; workspaceDir: string } | { files: readonly string[] },
): Promise<SftRecord[]> {
  if ('datasetId' in source) {
    const file = path.join(datasetDir(source.workspaceDir, source.datasetId), CONVERSATIONS_FILE);
    const lines = await readLines(file, `dataset ${source.datasetId}`);
    return lines.map(({ value }) => {
      const messages = (value as { messages?: { role: string; content: string }[] }).messages ?? [];
      return { messages: messages.map(({ role, content }) => ({ role, content })) };
    });
  }
  const records: SftRecord[] = [];
  for (const file of source.files) {
    for (const { value, line } of await readLines(file, file)) {
      const parsed = recordSchema.safeParse(value);
      const badWeight = weightProblem(value);
      if (badWeight !== null) {
        throw new AppFailure('training_data_invalid', `${file}:${line}: ${badWeight}`, { file, line });
      }
      if (!parsed.success) {
        throw new AppFailure(
          'training_data_invalid',
          `${file}:${line} is neither {"messages": [{"role", "content"}, …]} nor {"prompt", "completion"}.`,
          { file, line },
        );
      }
      records.push(
        'messages' in parsed.data
          ? {
              messages: parsed.data.messages.map(({ role, content, weight }) =>
                weight === undefined ? { role, content } : { role, content, weight },
              ),
            }
          : parsed.data,
      );
    }
  }
  return records;
}

/** Why a record's message weights are not OpenAI's 0 or 1 (naming the message), or null. */
function weightProblem(value: unknown): string | null {
  const messages = (value as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return null;
  for (const [index, message] of messages.entries()) {
    const weight = (message as { weight?: unknown } | null)?.weight;
    if (weight !== undefined && !weightSchema.safeParse(weight).success) {
      return `messages[${index}].weight is ${JSON.stringify(weight)}; a message's weight must be 0 (context only) or 1 (trained on).`;
    }
  }
  return null;
}

async function readLines(file: string, label: string): Promise<{ value: unknown; line: number }[]> {
  let parsed;
  try {
    parsed = await readJsonLines(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new AppFailure(
      code === 'ENOENT' ? 'not_found' : 'training_data_invalid',
      `${label}: ${file} cannot be read (${code ?? (error as Error).message}).`,
      { file },
    );
  }
  const invalid = parsed.dropped.find((dropped) => dropped.reason === 'invalid_json');
  if (invalid) throw new AppFailure('training_data_invalid', invalid.message, { file, line: invalid.line });
  return parsed.values.map((value, index) => ({ value, line: index + 1 }));
}

/**
 * The chat format training renders conversations with: the tokenizer's template, or ChatML
 * ({@link DEFAULT_CHAT_TEMPLATE}) ending turns with the tokenizer's EOS when it has none.
 */
export function trainingChatFormat(tokenizer: Tokenizer): ChatFormat {
  return (
    tokenizer.chatFormat ?? {
      template: DEFAULT_CHAT_TEMPLATE,
      eosToken: tokenizer.specialTokens.eos?.content ?? null,
      bosToken: tokenizer.specialTokens.bos?.content ?? null,
    }
  );
}

/**
 * Tokenizes records into examples of at most `maxLength` tokens (longer ones keep their start).
 * Records with no assistant tokens left are skipped. Deterministic: the same records and
 * tokenizer give the same ids (see {@link fingerprintExamples}).
 */
export function tokenizeRecords(
  records: readonly SftRecord[],
  tokenizer: Tokenizer,
  maxLength: number,
): { examples: SftExample[]; stats: TokenizationStats } {
  const format = trainingChatFormat(tokenizer);
  const stats: TokenizationStats = {
    records: records.length,
    examples: 0,
    skipped: 0,
    truncated: 0,
    tokens: 0,
    lossTokens: 0,
  };
  const examples: SftExample[] = [];
  for (const record of records) {
    const full =
      'messages' in record ? tokenizeConversation(record.messages, tokenizer, format) : tokenizePair(record, tokenizer);
    if (full === null) {
      stats.skipped++;
      continue;
    }
    if (full.ids.length > maxLength) stats.truncated++;
    const example = { ids: full.ids.slice(0, maxLength), lossMask: full.lossMask.slice(0, maxLength) };
    // The first token is never a target (nothing predicts it), so it cannot carry the loss.
    const lossTokens = example.lossMask.slice(1).reduce((sum, value) => sum + value, 0);
    if (lossTokens === 0) {
      stats.skipped++;
      continue;
    }
    examples.push(example);
    stats.tokens += example.ids.length;
    stats.lossTokens += lossTokens;
  }
  stats.examples = examples.length;
  return { examples, stats };
}

/**
 * One conversation as a sequence: for each assistant turn, the text since the previous turn's
 * completion (no loss) and the turn's completion (loss). Null without an assistant turn. If the
 * template does not render a conversation as a prefix of its continuation, only the last assistant
 * turn is trained on.
 */
export function tokenizeConversation(
  messages: readonly ChatMessage[],
  tokenizer: Tokenizer,
  format: ChatFormat,
): SftExample | null {
  const assistantTurns = messages.flatMap((message, index) => (message.role === 'assistant' ? [index] : []));
  if (assistantTurns.length === 0) return null;
  const pieces: { text: string; loss: boolean }[] = [];
  let consumed = '';
  for (const turn of assistantTurns) {
    const { prompt, completion } = renderPromptAndCompletion(
      messages.slice(0, turn),
      (messages[turn] as ChatMessage).content,
      format,
    );
    if (!prompt.startsWith(consumed)) {
      const last = assistantTurns.at(-1) as number;
      const split = renderPromptAndCompletion(messages.slice(0, last), (messages[last] as ChatMessage).content, format);
      return encodePieces(
        [
          { text: split.prompt, loss: false },
          { text: split.completion, loss: (messages[last] as ChatMessage).weight !== 0 },
        ],
        tokenizer,
      );
    }
    const trained = (messages[turn] as ChatMessage).weight !== 0;
    pieces.push({ text: prompt.slice(consumed.length), loss: false }, { text: completion, loss: trained });
    consumed = prompt + completion;
  }
  return encodePieces(pieces, tokenizer);
}

/** A plain prompt/completion pair: the prompt with the tokenizer's special tokens, the completion plus EOS. */
function tokenizePair(record: { prompt: string; completion: string }, tokenizer: Tokenizer): SftExample | null {
  const prompt = tokenizer.encode(record.prompt, { addSpecialTokens: true });
  const completion = tokenizer.encode(record.completion, { addSpecialTokens: false });
  const eos = tokenizer.specialTokens.eos;
  if (eos && completion.at(-1) !== eos.id) completion.push(eos.id);
  if (completion.length === 0) return null;
  return {
    ids: [...prompt, ...completion],
    lossMask: [...prompt.map(() => 0), ...completion.map(() => 1)],
  };
}

function encodePieces(pieces: readonly { text: string; loss: boolean }[], tokenizer: Tokenizer): SftExample {
  const ids: number[] = [];
  const lossMask: number[] = [];
  for (const piece of pieces) {
    if (piece.text === '') continue;
    const pieceIds = tokenizer.encode(piece.text, { addSpecialTokens: false });
    ids.push(...pieceIds);
    for (let index = 0; index < pieceIds.length; index++) lossMask.push(piece.loss ? 1 : 0);
  }
  return { ids, lossMask };
}

/** sha256 of the examples' ids and masks: a resumed run checks it trains on the same data. */
export function fingerprintExamples(examples: readonly SftExample[]): string {
  const hash = createHash('sha256');
  for (const example of examples) {
    hash.update(Int32Array.from(example.ids));
    hash.update(Uint8Array.from(example.lossMask));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * A right-padded batch for next-token training: `inputIds` (rows × length) are each sequence but
 * its last token, `targets` the tokens that follow, `lossMask` 1 where a target is an assistant
 * token, `attentionMask` 1 on real tokens. Plain arrays, so a worker thread can take it.
 */
export interface TokenBatch {
  rows: number;
  length: number;
  inputIds: Int32Array;
  targets: Int32Array;
  attentionMask: Int32Array;
  lossMask: Float32Array;
  /** Real tokens read (the sum of attentionMask). */
  tokens: number;
  /** Targets the loss covers (the sum of lossMask). */
  lossTokens: number;
}

/** Pads the examples into one batch as long as its longest example (minus one: the last token is only a target). */
export function padBatch(examples: readonly SftExample[], padId = 0): TokenBatch {
  const rows = examples.length;
  const length = Math.max(1, ...examples.map((example) => example.ids.length - 1));
  const batch: TokenBatch = {
    rows,
    length,
    inputIds: new Int32Array(rows * length).fill(padId),
    targets: new Int32Array(rows * length).fill(padId),
    attentionMask: new Int32Array(rows * length),
    lossMask: new Float32Array(rows * length),
    tokens: 0,
    lossTokens: 0,
  };
  examples.forEach((example, row) => {
    const offset = row * length;
    for (let position = 0; position < example.ids.length - 1; position++) {
      batch.inputIds[offset + position] = example.ids[position] as number;
      batch.targets[offset + position] = example.ids[position + 1] as number;
      batch.attentionMask[offset + position] = 1;
      batch.lossMask[offset + position] = example.lossMask[position + 1] as number;
      batch.tokens++;
      batch.lossTokens += example.lossMask[position + 1] as number;
    }
  });
  return batch;
}

/** Splits a micro-batch's examples into `shards` contiguous, nearly equal parts (none empty), each padded on its own. */
export function shardBatch(examples: readonly SftExample[], shards: number, padId = 0): TokenBatch[] {
  const count = Math.max(1, Math.min(shards, examples.length));
  const batches: TokenBatch[] = [];
  let start = 0;
  for (let shard = 0; shard < count; shard++) {
    const size = Math.floor(examples.length / count) + (shard < examples.length % count ? 1 : 0);
    batches.push(padBatch(examples.slice(start, start + size), padId));
    start += size;
  }
  return batches;
}

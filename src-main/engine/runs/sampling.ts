/**
 * On-policy samples of a run: y⁺ for DRIFT, y⁻ for SPIN, candidates for IterDPO, from π(k−1).
 *
 * Two prompts (drift-paper.md §1.3, §7.1 keep both renderers apart):
 * - guided: gen-drift.py's plain-text prompt (context, y⁻, the user's feedback, the improvement
 *   instruction, `Assistant: `), tokenized as HF's tokenizer(...) does (special tokens added);
 *   the answer is gen-drift.py's post-processing of decode(prompt + completion): the text after
 *   the last `Assistant: `, stripped;
 * - guided, chat form (`guidedFormat: 'chat'`): the same content as turns of the model's chat
 *   template (context, y⁻, the feedback, the instruction as a system turn) with the generation
 *   prompt; the answer is the completion up to the end of turn, stripped;
 * - plain: the context in the model's chat template with the generation prompt (the training
 *   prompt), so the policy answers as it is trained to; the answer is the completion's text up to
 *   the end of turn, stripped.
 *
 * Sampling is seeded by (run seed, iteration, draw, first record of the batch) and each row of a
 * batch draws from its own generator (model/generate.ts), so the same run regenerates the same
 * samples (gen-drift.py sets no seed; recorded as a deviation).
 */
import type { RunGeneration } from '../../api/index.js';
import type { CausalLanguageModel, GenerationPool } from '../model/index.js';
import { Random, generate, type FinishReason } from '../model/index.js';
import type { ChatMessage, Tokenizer } from '../text/index.js';
import {
  DRIFT_IMPROVE_INSTRUCTION,
  applyChatTemplate,
  extractAfterLastAssistantMarker,
  pythonStrip,
  renderGuidedPrompt,
} from '../text/index.js';
import { trainingChatFormat } from '../train/data.js';

/** gen-drift.py's instruction without its `System: ` prefix and line end (the chat form's system turn). */
const DRIFT_INSTRUCTION_TEXT = DRIFT_IMPROVE_INSTRUCTION.replace(/^System: /, '').trim();

/** A record to sample an answer for. */
export interface SampleSource {
  id: string;
  context: ChatMessage[];
  /** The logged DSAT response (the guided prompt shows it). */
  rejected: string;
  /** The user's dissatisfied turn (the guided prompt shows it). */
  feedback: string;
}

/** One sampled answer. */
export interface PolicySample {
  sourceId: string;
  /** The text the model continued (after truncation to fit the context). */
  prompt: string;
  text: string;
  finishReason: FinishReason;
}

export interface SamplingRequest {
  guided: boolean;
  generation: RunGeneration;
  seed: number;
  iteration: number;
  /** Which draw of several for the same records (0 for the first). */
  draw: number;
  /** Index of the first source in the run's record list (part of the seed). */
  offset: number;
  signal?: AbortSignal;
  /** Threads that share the batch's decoding (the tokens are the same with or without). */
  pool?: GenerationPool;
}

/** A 31-bit seed mixed from integers (a fresh xoshiro128** seeded with them, its first output). */
export function derivedSeed(...parts: number[]): number {
  return new Random(...parts).nextUint32() >>> 1;
}

/** The prompt of a source as text and token ids, cut to leave room for `maxNewTokens` in the model's context. */
export function samplingPrompt(
  source: SampleSource,
  guided: boolean,
  tokenizer: Tokenizer,
  contextLength: number,
  maxNewTokens: number,
  guidedFormat: RunGeneration['guidedFormat'] = 'plain',
): { text: string; ids: number[] } {
  let ids: number[];
  if (guided && guidedFormat === 'plain') {
    ids = tokenizer.encode(renderGuidedPrompt(source.context, source.rejected, source.feedback, { guided: true }));
  } else {
    const messages: ChatMessage[] = guided
      ? [
          ...source.context,
          { role: 'assistant', content: source.rejected },
          { role: 'user', content: source.feedback },
          { role: 'system', content: DRIFT_INSTRUCTION_TEXT },
        ]
      : source.context;
    const text = applyChatTemplate(messages, { ...trainingChatFormat(tokenizer), addGenerationPrompt: true });
    // Templates write their own BOS, as apply_chat_template(tokenize=True) assumes.
    ids = tokenizer.encode(text, { addSpecialTokens: false });
  }
  // Keep the prompt's end (the instruction and `Assistant: `); gen-drift.py cuts the right side instead.
  const room = Math.max(1, contextLength - Math.min(maxNewTokens, Math.floor(contextLength / 2)));
  if (ids.length > room) ids = ids.slice(ids.length - room);
  return { text: tokenizer.decode(ids), ids };
}

/** Samples one answer per source in one batch of generation (the caller batches). */
export async function samplePolicy(
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  sources: readonly SampleSource[],
  request: SamplingRequest,
): Promise<PolicySample[]> {
  if (sources.length === 0) return [];
  const { generation } = request;
  const contextLength = model.config.maxPositionEmbeddings;
  const prompts = sources.map((source) =>
    samplingPrompt(source, request.guided, tokenizer, contextLength, generation.maxNewTokens, generation.guidedFormat),
  );
  const results = await generate(
    model,
    tokenizer,
    prompts.map((prompt) => prompt.ids),
    {
      temperature: generation.temperature,
      topP: generation.topP,
      topK: generation.topK,
      maxNewTokens: generation.maxNewTokens,
      seed: derivedSeed(request.seed, request.iteration, request.draw, request.offset),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.pool ? { pool: request.pool } : {}),
    },
  );
  return results.map((result, row) => {
    const prompt = prompts[row] as { text: string; ids: number[] };
    const text =
      request.guided && generation.guidedFormat === 'plain'
        ? extractAfterLastAssistantMarker(
            tokenizer.decode([...result.promptIds, ...result.tokens], { skipSpecialTokens: true }),
          )
        : pythonStrip(result.text);
    return {
      sourceId: (sources[row] as SampleSource).id,
      prompt: prompt.text,
      text,
      finishReason: result.finishReason,
    };
  });
}

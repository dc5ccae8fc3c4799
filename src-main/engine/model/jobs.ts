/**
 * The model job kinds' worker side: `model.import` (copy and check a local HF folder into the
 * workspace) and `model.generate` (continue prompts, streaming each token's text as job output
 * `{row, token, text}`). Their host-side completion steps are in completion.ts.
 */
import path from 'node:path';
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import type { JobHandler } from '../jobs/types.js';
import type { ChatMessage } from '../text/index.js';
import { applyChatTemplate } from '../text/index.js';
import type { GenerateOptions } from './generate.js';
import { generate } from './generate.js';
import { loadHfModel } from './model.js';
import type { ModelSummary } from './store.js';
import { importModelFolder, loadOptionalTokenizer, newModelId, resolveModelFolder } from './store.js';

function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** `model.import` params: an absolute folder path and an optional display name. */
export const ImportModelParams = z
  .object({
    path: z.string().min(1).max(4096).refine(path.isAbsolute, 'must be an absolute path'),
    name: z.string().min(1).max(200).optional(),
  })
  .strict();

/** What `model.import` returns (and its completion turns into a catalog entry). */
export interface ImportModelResult {
  modelId: string;
  name: string;
  source: string;
  summary: ModelSummary;
}

export const importModel: JobHandler = async (params, context) => {
  const { path: source, name } = parseParams(ImportModelParams, params);
  const displayName = name ?? path.basename(path.resolve(source));
  const modelId = await newModelId(context.workspaceDir, displayName);
  context.progress('checking', 0, 1, source);
  const summary = await importModelFolder(source, context.workspaceDir, modelId, {
    signal: context.signal,
    onProgress: (done, total, file) => context.progress('copying', done, total, file),
  });
  const result: ImportModelResult = { modelId, name: displayName, source: path.resolve(source), summary };
  return result;
};

const messageSchema = z.object({ role: z.string().min(1).max(64), content: z.string().max(1_000_000) });

/** `model.generate` params: a model (workspace id or absolute folder), prompts and the sampling settings. */
export const GenerateParams = z
  .object({
    model: z.string().min(1).max(4096),
    /** Text, or a conversation rendered with the model's chat template (ending in an assistant turn's opening). */
    prompts: z
      .array(z.union([z.string().max(1_000_000), z.array(messageSchema).min(1).max(1000)]))
      .min(1)
      .max(256),
    /** Render text prompts as one user turn with the chat template. Default false. */
    chat: z.boolean().default(false),
    maxNewTokens: z.number().int().min(0).max(100_000).optional(),
    temperature: z.number().min(0).max(100).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    minP: z.number().min(0).max(1).optional(),
    repetitionPenalty: z.number().gt(0).max(100).optional(),
    stopStrings: z.array(z.string().min(1).max(1000)).max(32).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

/** One streamed piece of a `model.generate` job (the `data` of its `job:output` events). */
export interface GenerateOutput {
  row: number;
  token: number;
  /** The text this token completes ('' while a character or a possible stop string is incomplete). */
  text: string;
}

export interface GenerateResult {
  completions: { text: string; finishReason: string; promptTokens: number; completionTokens: number }[];
  /** Generated tokens, all rows. */
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
}

/** The sampling settings of a request, as generate's options (only those given). */
function samplingOf(request: z.output<typeof GenerateParams>): GenerateOptions {
  const { temperature, topK, topP, minP, repetitionPenalty, stopStrings, seed } = request;
  return Object.fromEntries(
    Object.entries({ temperature, topK, topP, minP, repetitionPenalty, stopStrings, seed }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as GenerateOptions;
}

export const generateWithModel: JobHandler = async (params, context) => {
  const request = parseParams(GenerateParams, params);
  const folder = resolveModelFolder(context.workspaceDir, request.model);
  context.progress('loading', 0, 1, folder);
  const tokenizer = await loadOptionalTokenizer(folder);
  if (tokenizer === null) {
    throw new AppFailure('model_tokenizer_missing', `${folder} has no tokenizer, so text prompts cannot be encoded.`);
  }
  const needsTemplate = request.chat || request.prompts.some((prompt) => typeof prompt !== 'string');
  const format = tokenizer.chatFormat;
  if (needsTemplate && format === null) {
    throw new AppFailure(
      'chat_template_invalid',
      `${folder}'s tokenizer has no chat template for conversation prompts.`,
    );
  }
  // Templates write their own BOS, so templated prompts are encoded without special tokens; plain
  // text gets what the tokenizer adds (HF's convention for both).
  const promptIds = request.prompts.map((prompt) => {
    if (typeof prompt === 'string' && !request.chat) return tokenizer.encode(prompt);
    const messages: ChatMessage[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
    const text = applyChatTemplate(messages, { ...format!, addGenerationPrompt: true });
    return tokenizer.encode(text, { addSpecialTokens: false });
  });
  const model = await loadHfModel(folder, { trainable: false });
  try {
    const maxNewTokens = request.maxNewTokens ?? 64;
    const total = maxNewTokens * promptIds.length;
    let produced = 0;
    let lastReport = 0;
    const started = performance.now();
    const results = await generate(model, tokenizer, promptIds, {
      ...samplingOf(request),
      maxNewTokens,
      signal: context.signal,
      onToken: (row, token, text) => {
        produced++;
        context.output({ row, token, text } satisfies GenerateOutput);
        const now = performance.now();
        if (now - lastReport > 250) {
          lastReport = now;
          context.progress('generating', produced, total);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    context.progress('generating', produced, produced);
    const result: GenerateResult = {
      completions: results.map((row) => ({
        text: row.text,
        finishReason: row.finishReason,
        promptTokens: row.promptIds.length,
        completionTokens: row.tokens.length,
      })),
      tokens: produced,
      seconds,
      tokensPerSecond: seconds > 0 ? produced / seconds : 0,
    };
    return result;
  } finally {
    model.dispose();
  }
};

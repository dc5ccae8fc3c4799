/**
 * The model job kinds' worker side: `model.import` (copy and check a local HF folder into the
 * workspace) and `model.generate` (continue prompts, streaming each token's text as job output
 * `{type: 'token', row, token, text}`). Their host-side completion steps are in completion.ts.
 */
import path from 'node:path';
import type { z } from 'zod';
import {
  AppFailure,
  ModelGenerateParams,
  ModelImportParams,
  type GenerateTokenOutput,
  type ModelGenerateResult,
  type ModelImportResult,
} from '../../api/index.js';
import type { JobHandler } from '../jobs/types.js';
import type { ChatMessage } from '../text/index.js';
import { applyChatTemplate, loadOptionalTokenizer } from '../text/index.js';
import type { GenerateOptions } from './generate.js';
import { generate } from './generate.js';
import { loadHfModel } from './model.js';
import { importModelFolder, newModelId, resolveModelFolder } from './store.js';

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

/** What the `model.import` worker returns; its completion adds the catalog entry. */
export type ImportModelResult = Omit<ModelImportResult, 'entry'>;

export const importModel: JobHandler = async (params, context) => {
  const { path: source, name } = parseParams(ModelImportParams, params);
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

/** The sampling settings of a request, as generate's options (only those given). */
function samplingOf(request: z.output<typeof ModelGenerateParams>): GenerateOptions {
  const { temperature, topK, topP, minP, repetitionPenalty, stopStrings, seed } = request;
  return Object.fromEntries(
    Object.entries({ temperature, topK, topP, minP, repetitionPenalty, stopStrings, seed }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as GenerateOptions;
}

export const generateWithModel: JobHandler = async (params, context) => {
  const request = parseParams(ModelGenerateParams, params);
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
        context.output({ type: 'token', row, token, text } satisfies GenerateTokenOutput);
        const now = performance.now();
        if (now - lastReport > 250) {
          lastReport = now;
          context.progress('generating', produced, total);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    context.progress('generating', produced, produced);
    const result: ModelGenerateResult = {
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

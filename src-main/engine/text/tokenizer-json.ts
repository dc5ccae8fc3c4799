/**
 * The tokenizer files as they are on disk: tokenizer.json (HF tokenizers' serialisation),
 * tokenizer_config.json and special_tokens_map.json (transformers'). The schemas check what the
 * workbench reads and keep every other field, so a loaded tokenizer saves back unchanged.
 */
import { z } from 'zod';

const addedTokenSchema = z.looseObject({
  id: z.number().int().nonnegative(),
  content: z.string().min(1),
  special: z.boolean().default(false),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(true),
});

/** The BPE model of tokenizer.json (the only model type the workbench reads). */
export const bpeModelSchema = z.looseObject({
  type: z.literal('BPE'),
  vocab: z.record(z.string(), z.number().int().nonnegative()),
  // Older files store merges as "left right" strings, newer ones (tokenizers ≥ 0.20) as pairs.
  merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
  unk_token: z.string().nullish(),
  byte_fallback: z.boolean().nullish(),
  fuse_unk: z.boolean().nullish(),
  ignore_merges: z.boolean().nullish(),
  continuing_subword_prefix: z.string().nullish(),
  end_of_word_suffix: z.string().nullish(),
  dropout: z.number().nullish(),
});

const componentSchema = z.looseObject({ type: z.string() }).nullable();

/** tokenizer.json: the parts the workbench checks; everything else is kept as it is. */
export const tokenizerJsonSchema = z.looseObject({
  version: z.string().optional(),
  truncation: z.unknown().optional(),
  padding: z.unknown().optional(),
  added_tokens: z.array(addedTokenSchema).default([]),
  normalizer: componentSchema.default(null),
  pre_tokenizer: componentSchema.default(null),
  post_processor: componentSchema.default(null),
  decoder: componentSchema.default(null),
  model: z.looseObject({ type: z.string().optional() }),
});

/** tokenizer.json, after validation; `model` is checked separately to name the model type. */
export type TokenizerJson = z.input<typeof tokenizerJsonSchema>;

/** A special token in tokenizer_config.json: a string or transformers' serialised AddedToken. */
const tokenValueSchema = z.union([z.string(), z.looseObject({ content: z.string() }), z.null()]);

/** tokenizer_config.json (and special_tokens_map.json): the keys the workbench reads. */
export const tokenizerConfigSchema = z.looseObject({
  // A single template, or a list of named ones ("default", "tool_use", ...).
  chat_template: z.union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))]).nullish(),
  bos_token: tokenValueSchema.optional(),
  eos_token: tokenValueSchema.optional(),
  pad_token: tokenValueSchema.optional(),
  unk_token: tokenValueSchema.optional(),
  add_bos_token: z.boolean().nullish(),
  add_eos_token: z.boolean().nullish(),
  clean_up_tokenization_spaces: z.boolean().nullish(),
  tokenizer_class: z.string().nullish(),
});

/** tokenizer_config.json (also what special_tokens_map.json holds, a subset of it). */
export type TokenizerConfig = z.input<typeof tokenizerConfigSchema>;
/** A special-token value as tokenizer_config.json writes it. */
export type TokenValue = z.output<typeof tokenValueSchema>;

/** The string of a special-token value, or null. */
export function tokenContent(value: TokenValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : value.content;
}

/** The chat template to use from a config: the string, or the list entry named "default". */
export function defaultChatTemplate(config: TokenizerConfig): string | null {
  const template = config.chat_template;
  if (template === undefined || template === null) return null;
  if (typeof template === 'string') return template;
  return template.find((entry) => entry.name === 'default')?.template ?? template[0]?.template ?? null;
}

/**
 * Loading a tokenizer from a model folder: the boundary where tokenizer files are checked.
 * Every problem becomes `tokenizer_invalid` naming the file and what is wrong with it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import { errorCode, isFile } from '../workspace/atomic.js';
import { byteLevelTokenizerJson } from './byte-level.js';
import type { Tokenizer } from './tokenizer.js';
import { createTokenizer } from './tokenizer.js';
import type { TokenizerConfig, TokenizerJson } from './tokenizer-json.js';
import { bpeModelSchema, tokenizerConfigSchema, tokenizerJsonSchema } from './tokenizer-json.js';

/** Whether a folder has tokenizer files (tokenizer.json, or GPT-2's vocab.json + merges.txt). */
export async function hasTokenizerFiles(folder: string): Promise<boolean> {
  if (await isFile(path.join(folder, 'tokenizer.json'))) return true;
  return (await isFile(path.join(folder, 'vocab.json'))) && (await isFile(path.join(folder, 'merges.txt')));
}

/** The folder's tokenizer, or null when it has no tokenizer files. @throws AppFailure `tokenizer_invalid` */
export async function loadOptionalTokenizer(folder: string): Promise<Tokenizer | null> {
  return (await hasTokenizerFiles(folder)) ? loadTokenizer(folder) : null;
}

/**
 * Loads the tokenizer in `folder`: tokenizer.json if present, otherwise GPT-2's vocab.json +
 * merges.txt; with tokenizer_config.json (chat template, special tokens, add_bos_token),
 * special_tokens_map.json and chat_template.jinja when present, as transformers reads them.
 */
export async function loadTokenizer(folder: string): Promise<Tokenizer> {
  const tokenizerJson =
    (await readTokenizerJson(path.join(folder, 'tokenizer.json'))) ?? (await readVocabAndMerges(folder));
  const config = await readConfig(folder, tokenizerJson.fromVocabAndMerges);
  try {
    return createTokenizer(tokenizerJson.json, config);
  } catch (error) {
    if (error instanceof AppFailure) {
      throw new AppFailure(error.code, `${folder}: ${error.message}`, { folder });
    }
    throw error;
  }
}

interface LoadedJson {
  json: TokenizerJson;
  fromVocabAndMerges: boolean;
}

async function readTokenizerJson(file: string): Promise<LoadedJson | null> {
  const raw = await readOptionalJson(file);
  if (raw === undefined) return null;
  const json = parseWith(tokenizerJsonSchema, raw, file);
  // Old files may omit the type; HF tokenizers then tells the models apart by their fields.
  const model = json.model as { type?: string; vocab?: unknown; merges?: unknown };
  const modelType = model.type ?? (Array.isArray(model.vocab) ? 'Unigram' : model.merges ? 'BPE' : 'WordPiece');
  if (modelType !== 'BPE') {
    throw invalid(file, `model type "${modelType}" is not supported; the workbench reads BPE tokenizers.`);
  }
  parseWith(bpeModelSchema, { ...json.model, type: 'BPE' }, file, 'model');
  return { json: { ...json, model: { ...json.model, type: 'BPE' } }, fromVocabAndMerges: false };
}

/** GPT-2's original files, converted to the tokenizer.json that HF's GPT2TokenizerFast builds. */
async function readVocabAndMerges(folder: string): Promise<LoadedJson> {
  const vocabFile = path.join(folder, 'vocab.json');
  const mergesFile = path.join(folder, 'merges.txt');
  const rawVocab = await readOptionalJson(vocabFile);
  const mergesText = await readOptionalText(mergesFile);
  if (rawVocab === undefined || mergesText === undefined) {
    throw new AppFailure('tokenizer_invalid', `${folder} has no tokenizer.json, and no vocab.json with merges.txt.`, {
      folder,
    });
  }
  const { vocab } = parseWith(bpeModelSchema.pick({ vocab: true }), { vocab: rawVocab }, vocabFile);
  const merges: string[] = [];
  mergesText.split('\n').forEach((line, index) => {
    const merge = line.replace(/\r$/, '');
    if (merge === '' || (index === 0 && merge.startsWith('#version'))) return;
    const parts = merge.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw invalid(mergesFile, `line ${index + 1} is not two tokens separated by one space: ${JSON.stringify(merge)}`);
    }
    merges.push(merge);
  });

  const addedTokens: Record<string, number> = {};
  if (vocab['<|endoftext|>'] !== undefined) addedTokens['<|endoftext|>'] = vocab['<|endoftext|>'];
  const addedFile = path.join(folder, 'added_tokens.json');
  const rawAdded = await readOptionalJson(addedFile);
  if (rawAdded !== undefined) {
    Object.assign(addedTokens, parseWith(bpeModelSchema.pick({ vocab: true }), { vocab: rawAdded }, addedFile).vocab);
  }

  const added = Object.entries(addedTokens).map(([content, id]) => ({ content, id }));
  const json = byteLevelTokenizerJson(vocab, merges, added);
  return { json, fromVocabAndMerges: true };
}

const ROLE_KEYS = ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const;

async function readConfig(folder: string, fromVocabAndMerges: boolean): Promise<TokenizerConfig> {
  const configFile = path.join(folder, 'tokenizer_config.json');
  const mapFile = path.join(folder, 'special_tokens_map.json');
  const templateFile = path.join(folder, 'chat_template.jinja');
  const rawConfig = await readOptionalJson(configFile);
  const rawMap = await readOptionalJson(mapFile);
  const template = await readOptionalText(templateFile);

  // GPT2Tokenizer's defaults: <|endoftext|> is BOS, EOS and UNK.
  const defaults: TokenizerConfig = fromVocabAndMerges
    ? { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_bos_token: false }
    : {};
  const config: TokenizerConfig = {
    ...defaults,
    ...(rawConfig === undefined ? {} : parseWith(tokenizerConfigSchema, rawConfig, configFile)),
  };
  if (rawMap !== undefined) {
    // transformers lets special_tokens_map.json override tokenizer_config.json for these keys.
    const map = parseWith(tokenizerConfigSchema, rawMap, mapFile);
    for (const key of ROLE_KEYS) if (map[key] !== undefined) config[key] = map[key];
  }
  // transformers ≥ 4.43 saves the template beside the config; the separate file wins.
  if (template !== undefined) config.chat_template = template;
  return config;
}

async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw invalid(file, `cannot be read (${errorCode(error) ?? String(error)}).`);
  }
}

async function readOptionalJson(file: string): Promise<unknown> {
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid(file, `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseWith<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  file: string,
  prefix?: string,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = [prefix, ...(issue?.path ?? []).map(String)].filter((part) => part !== undefined).join('.');
  throw invalid(file, `${where === '' ? '' : `${where}: `}${issue?.message ?? 'does not match the expected format'}`);
}

function invalid(file: string, problem: string): AppFailure {
  return new AppFailure('tokenizer_invalid', `${path.basename(file)} (${file}): ${problem}`, { file });
}

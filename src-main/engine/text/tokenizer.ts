/**
 * The workbench's tokenizer: one interface over every tokenizer.json BPE model (byte-level as
 * GPT-2/Qwen/Llama 3, SentencePiece-style with byte fallback as Llama 2), built from
 * tokenizer.json and tokenizer_config.json, and saved back as the same two files.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure } from '../../api/index.js';
import { writeFileAtomic } from '../workspace/atomic.js';
import type { ChatFormat } from './chat.js';
import { createPipeline } from './pipeline.js';
import type { TokenizerPipeline } from './pipeline.js';
import type { TokenizerConfig, TokenizerJson } from './tokenizer-json.js';
import { defaultChatTemplate, tokenContent } from './tokenizer-json.js';

/** A special token: its id and its text. */
export interface SpecialToken {
  id: number;
  content: string;
}

/** The tokens with a role; null when the tokenizer has none. */
export interface SpecialTokens {
  bos: SpecialToken | null;
  /** End of sequence; for chat models also the end of an assistant turn (generation stops here). */
  eos: SpecialToken | null;
  pad: SpecialToken | null;
  unk: SpecialToken | null;
}

export interface EncodeOptions {
  /** Adds what the tokenizer adds around a text (BOS for Llama 2). Default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leaves out special tokens (`<s>`, `<|endoftext|>`, ...). Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Turns generated ids into text as they arrive. Text is released only once it is complete: a
 * character split over several byte tokens is held back until its last byte arrives, so the
 * output never contains a broken UTF-8 sequence.
 */
export interface StreamDecoder {
  /** Adds one id; returns the newly complete text (often empty). */
  push(id: number): string;
  /** Returns whatever is held back (incomplete bytes become U+FFFD) and resets. */
  flush(): string;
}

export interface Tokenizer {
  /** Number of ids: the highest id plus one (model vocabulary and added tokens). */
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  /** Ids of every special token (the ones `skipSpecialTokens` leaves out). */
  readonly specialIds: ReadonlySet<number>;
  /** The chat template from tokenizer_config.json, or null. */
  readonly chatTemplate: string | null;
  /** The chat template with this tokenizer's BOS/EOS strings, ready for `applyChatTemplate`; null without a template. */
  readonly chatFormat: ChatFormat | null;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  createStreamDecoder(options?: DecodeOptions): StreamDecoder;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The two files' contents, as `save` writes them. */
  toJSON(): { tokenizer: TokenizerJson; config: TokenizerConfig };
  /** Writes tokenizer.json and tokenizer_config.json (atomically) into `folder`, creating it. */
  save(folder: string): Promise<void>;
}

/**
 * Builds a tokenizer from the parsed contents of tokenizer.json and tokenizer_config.json.
 * Throws `tokenizer_invalid` when the files describe something unsupported (a model other than BPE)
 * or inconsistent (a special token missing from the vocabulary).
 */
export function createTokenizer(tokenizerJson: TokenizerJson, config: TokenizerConfig): Tokenizer {
  return new BpeTokenizer(tokenizerJson, config);
}

/** Well-known spellings, used only when tokenizer_config.json does not name the token at all. */
const FALLBACK_SPECIAL_TOKENS = {
  bos: ['<s>', '<|begin_of_text|>', '<bos>'],
  eos: ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>'],
  pad: ['<pad>', '<|pad|>'],
  unk: ['<unk>'],
} as const;

class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  readonly specialIds: ReadonlySet<number>;
  readonly chatTemplate: string | null;
  readonly chatFormat: ChatFormat | null;
  private readonly pipeline: TokenizerPipeline;

  constructor(
    private readonly tokenizerJson: TokenizerJson,
    private readonly config: TokenizerConfig,
  ) {
    this.pipeline = createPipeline(tokenizerJson, config);
    this.vocabSize = this.pipeline.vocabSize;
    this.specialIds = this.pipeline.specialIds;
    this.specialTokens = {
      bos: this.resolveSpecial('bos_token', FALLBACK_SPECIAL_TOKENS.bos),
      eos: this.resolveSpecial('eos_token', FALLBACK_SPECIAL_TOKENS.eos),
      pad: this.resolveSpecial('pad_token', FALLBACK_SPECIAL_TOKENS.pad),
      unk: this.resolveSpecial('unk_token', FALLBACK_SPECIAL_TOKENS.unk),
    };
    this.chatTemplate = defaultChatTemplate(config);
    this.chatFormat =
      this.chatTemplate === null
        ? null
        : {
            template: this.chatTemplate,
            bosToken: this.specialTokens.bos?.content ?? null,
            eosToken: this.specialTokens.eos?.content ?? null,
            padToken: this.specialTokens.pad?.content ?? null,
            unkToken: this.specialTokens.unk?.content ?? null,
          };
  }

  private resolveSpecial(
    key: 'bos_token' | 'eos_token' | 'pad_token' | 'unk_token',
    fallbacks: readonly string[],
  ): SpecialToken | null {
    if (this.config[key] !== undefined) {
      const content = tokenContent(this.config[key]);
      if (content === null) return null;
      const id = this.pipeline.tokenToId(content);
      if (id === undefined) {
        throw new AppFailure('tokenizer_invalid', `${key} "${content}" is not in the vocabulary.`);
      }
      return { id, content };
    }
    for (const content of fallbacks) {
      const id = this.pipeline.tokenToId(content);
      if (id !== undefined && this.specialIds.has(id)) return { id, content };
    }
    return null;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const ids = this.pipeline.encode(text, addSpecialTokens);
    if (!addSpecialTokens) return ids;
    // transformers' Llama-style tokenizers apply add_bos_token / add_eos_token on top of the
    // tokenizer.json post-processor (LlamaTokenizerFast.update_post_processor).
    const { bos, eos } = this.specialTokens;
    if (this.config.add_bos_token === true && bos && ids[0] !== bos.id) ids.unshift(bos.id);
    if (this.config.add_eos_token === true && eos && ids[ids.length - 1] !== eos.id) ids.push(eos.id);
    return ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.pipeline.decode(ids, options.skipSpecialTokens ?? false);
  }

  createStreamDecoder(options: DecodeOptions = {}): StreamDecoder {
    return new IncrementalDecoder((ids) => this.decode(ids, options));
  }

  tokenToId(token: string): number | undefined {
    return this.pipeline.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.pipeline.idToToken(id);
  }

  toJSON(): { tokenizer: TokenizerJson; config: TokenizerConfig } {
    return { tokenizer: this.tokenizerJson, config: { tokenizer_class: 'PreTrainedTokenizerFast', ...this.config } };
  }

  async save(folder: string): Promise<void> {
    const { tokenizer, config } = this.toJSON();
    await mkdir(folder, { recursive: true });
    await writeFileAtomic(path.join(folder, 'tokenizer.json'), `${JSON.stringify(tokenizer, null, 2)}\n`);
    await writeFileAtomic(path.join(folder, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }
}

const REPLACEMENT_CHARACTER = '\ufffd';

/**
 * The approach of HF tokenizers' `DecodeStream` (tokenizers/src/tokenizer/mod.rs): decode the
 * pending ids together with the previous chunk's ids, and release the text beyond the previous
 * chunk's text once it does not end in U+FFFD (an incomplete UTF-8 sequence). Decoding with the
 * previous chunk as context keeps spaces that decoders drop at the start of a text (Llama's
 * leading "▁").
 */
class IncrementalDecoder implements StreamDecoder {
  private window: number[] = [];
  private released = 0;
  private releasedText = '';

  constructor(private readonly decode: (ids: readonly number[]) => string) {}

  push(id: number): string {
    this.window.push(id);
    const text = this.decode(this.window);
    if (text.length <= this.releasedText.length || text.endsWith(REPLACEMENT_CHARACTER)) return '';
    if (!text.startsWith(this.releasedText)) return '';
    const fresh = text.slice(this.releasedText.length);
    this.window = this.window.slice(this.released);
    this.released = this.window.length;
    this.releasedText = this.decode(this.window);
    return fresh;
  }

  flush(): string {
    const text = this.decode(this.window);
    const rest = text.startsWith(this.releasedText) ? text.slice(this.releasedText.length) : '';
    this.window = [];
    this.released = 0;
    this.releasedText = '';
    return rest;
  }
}

/**
 * The tokenizer.json pipeline (normalizer → pre-tokenizer → BPE → post-processor, and the decoder)
 * comes from @huggingface/tokenizers, the pure-JS implementation that transformers.js uses: it
 * covers byte-level BPE, SentencePiece-style BPE with byte fallback, the normalizers, added tokens
 * and the Oniguruma split patterns of Llama 3 / Qwen translated to JavaScript regexes. This file
 * is the only one that touches it.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { AppFailure } from '../../api/index.js';
import type { TokenizerConfig, TokenizerJson } from './tokenizer-json.js';

/** What the workbench needs from a tokenizer.json implementation. */
export interface TokenizerPipeline {
  readonly vocabSize: number;
  readonly specialIds: ReadonlySet<number>;
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: readonly number[], skipSpecialTokens: boolean): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

/** Builds the pipeline; a file it cannot build becomes `tokenizer_invalid`. */
export function createPipeline(tokenizerJson: TokenizerJson, config: TokenizerConfig): TokenizerPipeline {
  let tokenizer: HfTokenizer;
  try {
    // Decoding must give back the text exactly, so transformers' clean-up of spaces before
    // punctuation stays off unless the config asks for it.
    tokenizer = new HfTokenizer(tokenizerJson, {
      ...config,
      clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? false,
    });
  } catch (error) {
    throw new AppFailure(
      'tokenizer_invalid',
      `tokenizer.json could not be built: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const idToToken = new Map<number, string>();
  for (const [token, id] of tokenizer.get_vocab(true)) idToToken.set(id, token);
  const specialIds = new Set<number>();
  for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) specialIds.add(id);
  const vocabSize = Math.max(-1, ...idToToken.keys()) + 1;
  const cleanUp = config.clean_up_tokenization_spaces ?? false;

  return {
    vocabSize,
    specialIds,
    encode: (text, addSpecialTokens) => tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids,
    decode: (ids, skipSpecialTokens) => {
      // Ids without a token (a model's embedding rows are often padded beyond the vocabulary, as
      // Phi-2's 51,200) are dropped, as HF tokenizers' decode does (tokenizer/mod.rs).
      const known = ids.filter((id) => idToToken.has(id));
      if (known.length === 0) return '';
      return tokenizer.decode(known, {
        skip_special_tokens: skipSpecialTokens,
        clean_up_tokenization_spaces: cleanUp,
      });
    },
    tokenToId: (token) => tokenizer.token_to_id(token),
    idToToken: (id) => idToToken.get(id),
  };
}

/**
 * Text in and out of the models: tokenizers (tokenizer.json BPE, GPT-2 vocab + merges), chat
 * templates, the DRIFT prompt renderers, and the BPE trainer for the workbench's own models.
 */
export type {
  DecodeOptions,
  EncodeOptions,
  SpecialToken,
  SpecialTokens,
  StreamDecoder,
  Tokenizer,
} from './tokenizer.js';
export { createTokenizer } from './tokenizer.js';
export { hasTokenizerFiles, loadOptionalTokenizer, loadTokenizer } from './load.js';
export type { TokenizerConfig, TokenizerJson } from './tokenizer-json.js';
export type {
  ApplyChatTemplateOptions,
  ChatFormat,
  ChatMessage,
  GuidedPromptOptions,
  PromptAndCompletion,
} from './chat.js';
export {
  ASSISTANT_MARKER,
  DEFAULT_CHAT_TEMPLATE,
  DRIFT_IMPROVE_INSTRUCTION,
  applyChatTemplate,
  extractAfterLastAssistantMarker,
  pythonStrip,
  renderGuidedPrompt,
  renderPromptAndCompletion,
} from './chat.js';
export type { BpeTrainingStats, TrainByteLevelBpeOptions } from './train-bpe.js';
export { DEFAULT_SPECIAL_TOKENS, trainByteLevelBpe, trainByteLevelBpeWithStats } from './train-bpe.js';

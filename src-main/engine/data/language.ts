/**
 * Language per conversation with eld (Efficient Language Detector: pure JS, offline, 60
 * languages, ISO 639-1 codes), through eld-scorer.ts (eld's database and results, about 5x
 * faster than calling eld, which made language detection half of an import's time). The user's turns say what language the user writes in; their
 * first 160 characters agree with a guess from the whole text on 98-100% of the real samples
 * in shared/realdata and keep the cost bounded (eld's cost grows with the n-grams it scores).
 * Text too short or too mixed to call is `und` (undetermined, as in BCP 47).
 */
import { loadEldScorer } from './eld-scorer.js';
import type { Message } from './schema.js';

const SAMPLE_CHARS = 160;
export const UNDETERMINED = 'und';

/** Returns the ISO 639-1 code of a text, or `und`. */
export type LanguageDetector = (text: string) => string;

/**
 * Loads eld's extra-small n-gram database (about 30 MB of heap once loaded, so only when the
 * language facet is wanted). It agrees with eld's larger databases on 98-100% of the samples.
 */
export async function loadLanguageDetector(): Promise<LanguageDetector> {
  const eld = await loadEldScorer();
  return (text) => {
    const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
    if (sample.trim().length < 2) return UNDETERMINED;
    const result = eld.detect(sample);
    return result.language && result.reliable ? result.language : UNDETERMINED;
  };
}

/** The text a conversation's language is read from: its user turns (all turns if it has none). */
export function languageSample(messages: readonly Message[], extra: readonly Message[] = []): string {
  let text = '';
  for (const message of messages) {
    if (message.role !== 'user') continue;
    text += (text ? '\n' : '') + message.content;
    if (text.length >= SAMPLE_CHARS) return text.slice(0, SAMPLE_CHARS);
  }
  if (text.trim() === '') {
    for (const message of [...messages, ...extra]) {
      text += (text ? '\n' : '') + message.content;
      if (text.length >= SAMPLE_CHARS) return text.slice(0, SAMPLE_CHARS);
    }
  }
  return text;
}

/** The language of a conversation (see {@link languageSample}). */
export function conversationLanguage(
  detect: LanguageDetector,
  messages: readonly Message[],
  extra: readonly Message[] = [],
): string {
  return detect(languageSample(messages, extra));
}

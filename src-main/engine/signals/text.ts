/**
 * Text helpers shared by the detectors, the classifier's features and the curation search index:
 * a tokenizer that works across scripts, a 32-bit string hash and the similarity of two turns.
 *
 * Words are runs of letters, digits and marks, lower-cased with diacritics folded ("Café" →
 * "cafe"). Scripts written without spaces (Han, Hiragana, Katakana, Thai) give one token per
 * character, and `searchTerms` adds character bigrams so that a Chinese query matches a phrase.
 */

export interface Token {
  /** Folded form (lower case, no diacritics). */
  text: string;
  /** UTF-16 offsets into the original text. */
  start: number;
  end: number;
  /** The token is one character of a script without spaces. */
  unspaced: boolean;
}

const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const TOKEN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}])[\p{L}\p{N}\p{M}])+/gu;
const MARKS = /\p{M}/gu;

/** Lower case without diacritics: what search and similarity compare. */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** The tokens of `text` with their offsets, at most `limit` of them. */
export function tokenize(text: string, limit = Number.POSITIVE_INFINITY): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const raw = match[0];
    const folded = fold(raw);
    if (folded !== '') {
      tokens.push({ text: folded, start: match.index, end: match.index + raw.length, unspaced: UNSPACED.test(raw) });
    }
    if (tokens.length >= limit) break;
  }
  return tokens;
}

/**
 * The distinct terms a search index stores for `text` (and a query is split into): words, single
 * characters of unspaced scripts, and bigrams of adjacent unspaced characters.
 */
export function searchTerms(text: string, limit = Number.POSITIVE_INFINITY): string[] {
  const terms = new Set<string>();
  let previous: Token | undefined;
  for (const token of tokenize(text)) {
    terms.add(token.text);
    if (token.unspaced && previous?.unspaced && previous.end === token.start) terms.add(previous.text + token.text);
    previous = token;
    if (terms.size >= limit) break;
  }
  return [...terms];
}

/** FNV-1a, 32 bits, over UTF-16 code units: the hash of feature names and search terms. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** |A ∩ B| / |A ∪ B|, 0 for two empty sets. */
export function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

function characterNgrams(text: string, size: number): Map<string, number> {
  const grams = new Map<string, number>();
  const padded = ` ${fold(text).replace(/\s+/g, ' ').trim()} `;
  for (let index = 0; index + size <= padded.length; index++) {
    const gram = padded.slice(index, index + size);
    grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  return grams;
}

/** Cosine similarity of the character n-gram count vectors of two texts (script independent). */
export function characterCosine(a: string, b: string, size = 3): number {
  const left = characterNgrams(a, size);
  const right = characterNgrams(b, size);
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (const [gram, count] of left) {
    leftNorm += count * count;
    const other = right.get(gram);
    if (other !== undefined) dot += count * other;
  }
  for (const count of right.values()) rightNorm += count * count;
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}

/**
 * How much two user turns say the same thing, 0..1: the larger of the word Jaccard similarity and
 * the character-trigram cosine (the cosine catches rephrasings with reordered or inflected words
 * and scripts without spaces).
 */
export function turnSimilarity(a: string, b: string): number {
  const words = (text: string) => new Set(tokenize(text, 2000).map((token) => token.text));
  return Math.max(jaccard(words(a), words(b)), characterCosine(a.slice(0, 4000), b.slice(0, 4000)));
}

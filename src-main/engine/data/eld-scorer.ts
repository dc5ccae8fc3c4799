/**
 * eld's detection (Efficient Language Detector, Apache-2.0) with eld's own database, separator
 * pattern and calibration, scored without allocating: the same results as `eld.detect(text)` and
 * its `isReliable()` (test/engine/data/eld-scorer.test.ts compares them on generated and real
 * text), about 4x faster.
 *
 * Why not call eld directly: on an import, eld spent most of its time building an object keyed by
 * n-gram strings and walking per-n-gram objects with for-in (profiled: 20% of an import's CPU, and
 * much of its garbage). Here an n-gram is packed into two 32-bit integers (it is at most 6 of
 * eld's byte characters, each 1..255), looked up in an open-addressed table built once from eld's
 * n-gram object, and de-duplicated per call in a small stamped table; the scores go into one
 * Int32Array. Text clean-up (eld's separator regex, trim, toLowerCase) is eld's, unchanged.
 *
 * eld keeps these pieces inside its package (its `exports` name only the entry points), so they
 * are loaded by path from beside the resolved `eld/extrasmall` entry; the version is pinned in
 * package.json and the equivalence test fails if a new layout or algorithm differs.
 */

/** What `eld.detect(text)` says: its language ('' when none) and `isReliable()`. */
export interface EldVerdict {
  language: string;
  reliable: boolean;
}

export interface EldScorer {
  /** `eld.detect(text)`'s language and `isReliable()`. */
  detect(text: string): EldVerdict;
  /** `eld.detect(text).getScores()`: each scoring language's scaled score, best first. */
  scores(text: string): Record<string, number>;
}

interface EldData {
  languages: Record<string, string>;
  ngrams: Record<string, Record<string, number>>;
}

/** eld's `baseNgramScore`: subtracted from every stored score to shrink its database. */
const BASE_NGRAM_SCORE = 53;
/** eld's `orderAndScale` scale and `isReliable` default threshold ratio. */
const SCALE = 25;
const THRESHOLD_RATIO = 0.75;
/** eld's `strToUtf8Bytes` cut: at the first space after 350 bytes, or anywhere after 380. */
const CUT_AFTER = 350;
const ENFORCE_CUT_AFTER = 380;
const MAX_TEXT = 1000;
const MAX_WORD = 70;
const SPACE = 0x20;

/** Loads eld's extra-small database and returns a scorer equivalent to its `detect`. */
export async function loadEldScorer(): Promise<EldScorer> {
  const entry = import.meta.resolve('eld/extrasmall');
  const [{ ngramsData }, { separators }, { dictionary }, { avgScore }] = (await Promise.all([
    import(new URL('../ngrams/extrasmall.js', entry).href),
    import(new URL('../regexPatterns.js', entry).href),
    import(new URL('../dictionary.js', entry).href),
    import(new URL('../avgScore.js', entry).href),
  ])) as [
    { ngramsData: EldData },
    { separators: RegExp },
    { dictionary: string[] },
    { avgScore: Record<string, number> },
  ];
  return createEldScorer(ngramsData, separators, dictionary, avgScore);
}

/**
 * Packs an n-gram into `pair` (lo: its first 4 characters, hi: the next 2): an optional leading
 * space, characters `from..to` of `codes` (each 1..255), an optional trailing space. False when
 * it is longer than 6.
 */
function pack(codes: Uint8Array, from: number, to: number, lead: boolean, trail: boolean, pair: Int32Array): boolean {
  const length = to - from + (lead ? 1 : 0) + (trail ? 1 : 0);
  if (length > 6) return false;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  if (lead) {
    lo = SPACE;
    shift = 8;
  }
  for (let index = from; index < to; index++, shift += 8) {
    if (shift < 32) lo |= codes[index]! << shift;
    else hi |= codes[index]! << (shift - 32);
  }
  if (trail) {
    if (shift < 32) lo |= SPACE << shift;
    else hi |= SPACE << (shift - 32);
  }
  pair[0] = lo;
  pair[1] = hi;
  return true;
}

function hashPair(lo: number, hi: number): number {
  let hash = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  hash ^= hash >>> 15;
  return Math.imul(hash, 0xc2b2ae35) ^ (hash >>> 13);
}

export function createEldScorer(
  data: EldData,
  separators: RegExp,
  dictionary: readonly string[],
  averageScore: Readonly<Record<string, number>>,
): EldScorer {
  const languageCount = Object.keys(data.languages).length;
  const codes: string[] = Array.from({ length: languageCount }, (_, index) => data.languages[index]!);
  const thresholds = Float64Array.from(codes, (code) => (averageScore[code] ?? 0) * THRESHOLD_RATIO);
  const byteCode = Uint8Array.from(dictionary, (char) => {
    const code = char.charCodeAt(0);
    if (char.length !== 1 || code < 1 || code > 255)
      throw new Error(`eld's byte dictionary holds ${JSON.stringify(char)}`);
    return code;
  });

  // The database: n-gram → its (language, score) entries, in an open-addressed table.
  const keys = Object.keys(data.ngrams);
  const tableSize = 1 << Math.ceil(Math.log2(keys.length * 2.5));
  const mask = tableSize - 1;
  const tableLo = new Int32Array(tableSize);
  const tableHi = new Int32Array(tableSize);
  const tableEntry = new Int32Array(tableSize).fill(-1);
  const starts = new Int32Array(keys.length + 1);
  let total = 0;
  for (const key of keys) total += Object.keys(data.ngrams[key]!).length;
  const entryLanguage = new Uint8Array(total);
  const entryScore = new Int32Array(total);
  const keyCodes = new Uint8Array(8);
  const pair = new Int32Array(2);
  let cursor = 0;
  keys.forEach((key, index) => {
    if (key.length > 6) throw new Error(`eld's n-gram ${JSON.stringify(key)} is longer than 6`);
    for (let at = 0; at < key.length; at++) {
      const code = key.charCodeAt(at);
      if (code < 1 || code > 255) throw new Error(`eld's n-gram ${JSON.stringify(key)} holds a character above 255`);
      keyCodes[at] = code;
    }
    pack(keyCodes, 0, key.length, false, false, pair);
    let slot = hashPair(pair[0]!, pair[1]!) & mask;
    while (tableEntry[slot] !== -1) slot = (slot + 1) & mask;
    tableLo[slot] = pair[0]!;
    tableHi[slot] = pair[1]!;
    tableEntry[slot] = index;
    starts[index] = cursor;
    const scores = data.ngrams[key]!;
    for (const language in scores) {
      entryLanguage[cursor] = Number(language);
      entryScore[cursor] = scores[language]! + BASE_NGRAM_SCORE;
      cursor++;
    }
  });
  starts[keys.length] = cursor;

  // Per call: the text's byte characters and words, the n-grams seen, the language scores.
  const bytes = new Uint8Array(ENFORCE_CUT_AFTER + 8);
  const wordStart = new Int32Array(ENFORCE_CUT_AFTER + 2);
  const wordEnd = new Int32Array(ENFORCE_CUT_AFTER + 2);
  const SEEN_SIZE = 1024; // > the n-grams 380 bytes can make (at most one per byte)
  const seenLo = new Int32Array(SEEN_SIZE);
  const seenHi = new Int32Array(SEEN_SIZE);
  const seenStamp = new Int32Array(SEEN_SIZE);
  let stamp = 0;
  const totals = new Int32Array(languageCount);
  let overlong: Set<string> | null = null;
  let length = 0;
  let distinct = 0;

  const putByte = (byte: number) => {
    bytes[length++] = byteCode[byte]!;
  };

  /** Counts an n-gram once per call; true when it had not been seen in this call. */
  const firstSight = (lo: number, hi: number): boolean => {
    let slot = hashPair(lo, hi) & (SEEN_SIZE - 1);
    while (seenStamp[slot] === stamp) {
      if (seenLo[slot] === lo && seenHi[slot] === hi) return false;
      slot = (slot + 1) & (SEEN_SIZE - 1);
    }
    seenStamp[slot] = stamp;
    seenLo[slot] = lo;
    seenHi[slot] = hi;
    return true;
  };

  const score = (lo: number, hi: number) => {
    let slot = hashPair(lo, hi) & mask;
    for (;;) {
      const entry = tableEntry[slot]!;
      if (entry === -1) return;
      if (tableLo[slot] === lo && tableHi[slot] === hi) {
        for (let at = starts[entry]!, end = starts[entry + 1]!; at < end; at++)
          totals[entryLanguage[at]!]! += entryScore[at]!;
        return;
      }
      slot = (slot + 1) & mask;
    }
  };

  /** Counts one n-gram of the current text, and its scores the first time it is seen. */
  const visit = (from: number, to: number, lead: boolean, trail: boolean) => {
    if (pack(bytes, from, to, lead, trail, pair)) {
      if (!firstSight(pair[0]!, pair[1]!)) return;
      distinct++;
      score(pair[0]!, pair[1]!);
    } else {
      // Only a word over 70 bytes makes one (eld's last n-gram runs to the word's end); no
      // database n-gram is that long, but eld still counts it.
      let key = lead ? ' ' : '';
      for (let at = from; at < to; at++) key += String.fromCharCode(bytes[at]!);
      if (trail) key += ' ';
      overlong ??= new Set();
      if (!overlong.has(key)) {
        overlong.add(key);
        distinct++;
      }
    }
  };

  /** Fills `totals` (each language's summed n-gram scores) for a text; returns its distinct n-grams. */
  const count = (input: string): number => {
    // eld's textProcessor: separators to one space, trim, lower case, then UTF-8 byte characters.
    const text = input.substring(0, MAX_TEXT).replace(separators, ' ').trim().toLowerCase();
    length = 0;
    let words = 0;
    let start = 0;
    let countBytes = 0;
    for (let index = 0; index < text.length; index++) {
      let code = text.charCodeAt(index);
      if (code < 0x80) {
        if (code === SPACE) {
          if (length > start) {
            wordStart[words] = start;
            wordEnd[words++] = length;
            start = length;
          }
          if (countBytes > CUT_AFTER) break;
        } else {
          bytes[length++] = code;
        }
        countBytes++;
      } else if (code < 0x800) {
        putByte(0xc0 | (code >> 6));
        putByte(0x80 | (code & 0x3f));
        countBytes += 2;
      } else if (code < 0xd800 || code >= 0xe000) {
        putByte(0xe0 | (code >> 12));
        putByte(0x80 | ((code >> 6) & 0x3f));
        putByte(0x80 | (code & 0x3f));
        countBytes += 3;
      } else {
        index++;
        code = 0x10000 + (((code & 0x3ff) << 10) | (text.charCodeAt(index) & 0x3ff));
        putByte(0xf0 | (code >> 18));
        putByte(0x80 | ((code >> 12) & 0x3f));
        putByte(0x80 | ((code >> 6) & 0x3f));
        putByte(0x80 | (code & 0x3f));
        countBytes += 4;
      }
      if (countBytes > ENFORCE_CUT_AFTER) break;
    }
    if (length > start) {
      wordStart[words] = start;
      wordEnd[words++] = length;
    }

    // eld's getByteNgrams (4-byte n-grams, stride 3, a space marking a word's start or end) and
    // calculateScores, counting each distinct n-gram once.
    stamp++;
    totals.fill(0);
    overlong?.clear();
    distinct = 0;
    for (let word = 0; word < words; word++) {
      const from = wordStart[word]!;
      const end = wordEnd[word]!;
      const size = Math.min(end - from, MAX_WORD);
      let j = 0;
      for (; j + 4 < size; j += 3) visit(from + j, from + j + 4, j === 0, false);
      const last = size !== 3 ? Math.max(0, size - 4) : 0;
      visit(from + last, end, j === 0, true);
    }

    return distinct;
  };

  const scaled = (raw: number, distinct: number) => raw / distinct / (raw / distinct + SCALE);

  // eld's getMaxLang, orderAndScale and isReliable (whose "next score" is, as in eld, the second
  // language's index).
  const detect = (input: string): EldVerdict => {
    const distinct = count(input);
    let best = -1;
    let bestRaw = 0;
    for (let language = 0; language < languageCount; language++) {
      const raw = totals[language]!;
      if (raw > 0 && raw > bestRaw) {
        bestRaw = raw;
        best = language;
      }
    }
    if (best < 0) return { language: '', reliable: false };
    const top = scaled(bestRaw, distinct);
    let second = -1;
    let secondScaled = -1;
    for (let language = 0; language < languageCount; language++) {
      const raw = totals[language]!;
      if (language === best || raw <= 0) continue;
      const value = scaled(raw, distinct);
      if (value > secondScaled) {
        secondScaled = value;
        second = language;
      }
    }
    const nextScore = second >= 0 ? second : 0;
    const reliable = distinct >= 3 && !(thresholds[best]! > top || 0.01 > Math.abs(top - nextScore));
    return { language: codes[best]!, reliable };
  };

  const scores = (input: string): Record<string, number> => {
    const distinct = count(input);
    const ordered: [number, number][] = [];
    for (let language = 0; language < languageCount; language++) {
      if (totals[language]! > 0) ordered.push([language, scaled(totals[language]!, distinct)]);
    }
    ordered.sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(ordered.map(([language, value]) => [codes[language]!, value]));
  };

  return { detect, scores };
}

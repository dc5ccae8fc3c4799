/**
 * How the lexicons write their rules. A rule is one category, one weight, one sentence the UI
 * shows, and one regular expression built from alternatives written as regex source, where a
 * space stands for any run of whitespace and `'` for a straight or curly apostrophe.
 *
 * Shapes:
 * - `words`: anywhere, on word boundaries (Unicode-aware: JS `\b` only knows ASCII; a hyphen joins
 *   words, so "thank-you note" is one word);
 * - `opening`: at the start of the turn, after punctuation, emoji or spaces;
 * - `closing`: at the end of the turn, before punctuation, emoji or spaces;
 * - `exclaimed`: the turn's last clause, set off by punctuation ("Thanks, perfect!");
 * - `whole`: the whole turn, give or take punctuation and emoji;
 * - `chars`, `charsOpening`, `charsWhole`: the same without word boundaries, for scripts written
 *   without spaces (Chinese, Japanese) and for emoji;
 * - `negated`: a prefix that refuses a match right after a negation ("not great").
 */
import type { Category } from '../../../api/index.js';

export interface Rule {
  /** `<language>.<category>.<name>`, stable: evidence stores it. */
  id: string;
  category: Category;
  /** ISO 639-1, or `*` for every language. */
  language: string;
  description: string;
  /** How strongly one match supports the category, 0..1; 0.5 and above names the category. */
  weight: number;
  pattern: RegExp;
}

/** A lexicon entry before it gets its language and id: [name, category, weight, description, pattern]. */
export type RuleEntry = readonly [
  name: string,
  category: Category,
  weight: number,
  description: string,
  pattern: RegExp,
];

const EDGE_BEFORE = '(?<![\\p{L}\\p{N}\\p{M}-])';
const EDGE_AFTER = '(?![\\p{L}\\p{N}\\p{M}-])';
const LEAD = '^[\\s\\p{P}\\p{S}]*';
const TRAIL = '[\\s\\p{P}\\p{S}]*$';

function alternatives(parts: readonly string[]): string {
  return parts.map((part) => part.replace(/ /g, '\\s+').replace(/'/g, "['’]")).join('|');
}

/** Alternatives anywhere in the turn, on word boundaries. */
export function words(...parts: string[]): RegExp {
  return new RegExp(`${EDGE_BEFORE}(?:${alternatives(parts)})${EDGE_AFTER}`, 'giu');
}

/** Like {@link words}, but not right after one of `negations` (and up to one word in between). */
export function negated(negations: readonly string[], ...parts: string[]): RegExp {
  const guard = `(?<!${EDGE_BEFORE}(?:${alternatives(negations)})\\s+(?:[\\p{L}\\p{M}]+\\s+)?)`;
  return new RegExp(`${guard}${EDGE_BEFORE}(?:${alternatives(parts)})${EDGE_AFTER}`, 'giu');
}

/** Alternatives that open the turn. */
export function opening(...parts: string[]): RegExp {
  return new RegExp(`${LEAD}(?:${alternatives(parts)})${EDGE_AFTER}`, 'iu');
}

/** Alternatives that close the turn (only punctuation, spaces or emoji after them). */
export function closing(...parts: string[]): RegExp {
  return new RegExp(`${EDGE_BEFORE}(?:${alternatives(parts)})${TRAIL}`, 'iu');
}

/** Alternatives set off as the turn's last sentence or clause ("Thanks, perfect!"). */
export function exclaimed(...parts: string[]): RegExp {
  return new RegExp(`(?<=(?:^|[,.!;:？！，。])\\s*)(?:${alternatives(parts)})${TRAIL}`, 'iu');
}

/** Alternatives that make up the whole turn. */
export function whole(...parts: string[]): RegExp {
  return new RegExp(`${LEAD}(?:${alternatives(parts)})${TRAIL}`, 'iu');
}

/** Alternatives anywhere, with no word boundaries (unspaced scripts, emoji). */
export function chars(...parts: string[]): RegExp {
  return new RegExp(`(?:${alternatives(parts)})`, 'giu');
}

/** Like {@link chars}, but not right after one of `negations`. */
export function charsNegated(negations: readonly string[], ...parts: string[]): RegExp {
  return new RegExp(`(?<!(?:${alternatives(negations)}))(?:${alternatives(parts)})`, 'giu');
}

/** Unspaced alternatives that open the turn. */
export function charsOpening(...parts: string[]): RegExp {
  return new RegExp(`${LEAD}(?:${alternatives(parts)})`, 'iu');
}

/** Unspaced alternatives that make up the whole turn. */
export function charsWhole(...parts: string[]): RegExp {
  return new RegExp(`${LEAD}(?:${alternatives(parts)})${TRAIL}`, 'iu');
}

/** Gives each entry of a language's lexicon its id and language. */
export function lexicon(language: string, entries: readonly RuleEntry[]): Rule[] {
  const seen = new Set<string>();
  return entries.map(([name, category, weight, description, pattern]) => {
    const id = `${language}.${category}.${name}`;
    if (seen.has(id)) throw new Error(`Duplicate rule id ${id}`);
    seen.add(id);
    return { id, category, language, description, weight, pattern };
  });
}

export interface RuleMatch {
  rule: Rule;
  start: number;
  end: number;
}

/**
 * Every match of `rule` in `text`, trimmed of the leading punctuation and spaces an opening or
 * whole-turn pattern consumes, so that the evidence span is the words themselves.
 */
export function matchRule(rule: Rule, text: string): RuleMatch[] {
  const found: RuleMatch[] = [];
  const add = (index: number, matched: string) => {
    const leading = /^[\s\p{P}\p{S}]*/u.exec(matched)?.[0].length ?? 0;
    const trailing = /[\s\p{P}]*$/u.exec(matched.slice(leading))?.[0].length ?? 0;
    const start = index + (leading < matched.length ? leading : 0);
    const end = Math.max(start, index + matched.length - (leading < matched.length ? trailing : 0));
    found.push({ rule, start, end: end > start ? end : index + matched.length });
  };
  const { pattern } = rule;
  if (pattern.global) {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      if (match[0] === '') {
        pattern.lastIndex++;
        continue;
      }
      add(match.index, match[0]);
    }
  } else {
    const match = pattern.exec(text);
    if (match && match[0] !== '') add(match.index, match[0]);
  }
  return found;
}

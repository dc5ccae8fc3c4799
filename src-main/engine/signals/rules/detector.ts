/**
 * The transparent rules detector: per-language lexicons and patterns (lexicon/*.ts), plus two
 * structural rules, judge each user turn about the assistant turn before it.
 *
 * - A category's score combines its matched rules as a noisy-or, 1 − Π(1 − weight), so two weak
 *   cues add up and one strong cue suffices. A score of 0.5 or more names the category.
 * - `rephrase.similarity`: a user turn that says much the same as the previous user request
 *   (turnSimilarity ≥ the threshold) after an answer it did not praise is a Revision (SPUR and
 *   WildFeedback both count repeating or rephrasing the request as dissatisfaction).
 * - `structure.unanswered_question`: the answer ended with a question and the user went on without
 *   answering it; a weak No Engagement cue that only counts together with another.
 * - Only the first 1,500 characters of a turn are read: feedback comes first, and long pastes
 *   (code, documents) would otherwise trigger words such as "error".
 */
import type { Category, Conversation, Evidence, Polarity, RuleInfo, Signal } from '../../../api/index.js';
import { isDsatCategory, isSatCategory, polarityOf } from '../categories.js';
import { tokenize, turnSimilarity } from '../text.js';
import { judgedTurnOf, previousUserTurn, timelineOf, type Detector } from '../types.js';
import { matchRule, type Rule } from './build.js';
import { ENGLISH } from './lexicon/en.js';
import { GERMAN } from './lexicon/german.js';
import { ITALIAN, FRENCH, PORTUGUESE, SPANISH } from './lexicon/romance.js';
import { JAPANESE, KOREAN, VIETNAMESE } from './lexicon/asian.js';
import { RUSSIAN } from './lexicon/ru.js';
import { UNIVERSAL } from './lexicon/universal.js';
import { CHINESE } from './lexicon/zh.js';

/** Every lexicon rule, in a stable order. */
export const RULES: readonly Rule[] = [
  ...UNIVERSAL,
  ...ENGLISH,
  ...CHINESE,
  ...RUSSIAN,
  ...SPANISH,
  ...FRENCH,
  ...GERMAN,
  ...PORTUGUESE,
  ...ITALIAN,
  ...JAPANESE,
  ...KOREAN,
  ...VIETNAMESE,
];

/** Languages with a lexicon (ISO 639-1). */
export const RULE_LANGUAGES = ['en', 'zh', 'ru', 'es', 'fr', 'de', 'pt', 'it', 'ja', 'ko', 'vi'] as const;
const LATIN_LANGUAGES = ['en', 'es', 'fr', 'de', 'pt', 'it', 'vi'];

export const REPHRASE_RULE_ID = 'rephrase.similarity';
export const UNANSWERED_RULE_ID = 'structure.unanswered_question';

/** The structural rules, listed with the lexicon rules in the rubric. */
export const STRUCTURAL_RULES: readonly RuleInfo[] = [
  {
    id: REPHRASE_RULE_ID,
    category: 'revision',
    language: '*',
    description:
      'Repeats or rephrases the previous request: word Jaccard or character-trigram cosine with the previous user turn at or above the threshold (weight 0.55 at the threshold, up to 0.95)',
    weight: 0.55,
  },
  {
    id: UNANSWERED_RULE_ID,
    category: 'no_engagement',
    language: '*',
    description: 'The answer ended with a question that the user did not take up (supporting cue only)',
    weight: 0.35,
  },
];

/** The rules the UI lists: every lexicon rule and the structural rules. */
export function ruleCatalog(): RuleInfo[] {
  return [
    ...RULES.map(({ id, category, language, description, weight }) => ({
      id,
      category,
      language,
      description,
      weight,
    })),
    ...STRUCTURAL_RULES,
  ];
}

const SCAN_LIMIT = 1500;
const NAMED = 0.5;
const BY_LANGUAGE = new Map<string, Rule[]>();
for (const rule of RULES) {
  const list = BY_LANGUAGE.get(rule.language) ?? [];
  list.push(rule);
  BY_LANGUAGE.set(rule.language, list);
}

const HAN = /\p{Script=Han}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HANGUL = /\p{Script=Hangul}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const LATIN = /\p{Script=Latin}/u;

/**
 * The lexicons to apply to one turn: every-language rules, English (users mix it in everywhere),
 * the conversation's language, and the languages the turn's own scripts point to. With no known
 * language, Latin-script text gets every Latin-script lexicon.
 */
export function languagesFor(conversationLanguage: string | undefined, text: string): string[] {
  const languages = new Set<string>(['*', 'en']);
  const base = conversationLanguage?.toLowerCase().split(/[-_]/)[0];
  const known = base !== undefined && BY_LANGUAGE.has(base);
  if (known) languages.add(base);
  if (HAN.test(text)) languages.add('zh').add('ja');
  if (KANA.test(text)) languages.add('ja');
  if (HANGUL.test(text)) languages.add('ko');
  if (CYRILLIC.test(text)) languages.add('ru');
  if (!known && LATIN.test(text)) for (const language of LATIN_LANGUAGES) languages.add(language);
  return [...languages];
}

export interface RulesOptions {
  /** turnSimilarity at or above which a user turn rephrases the previous request. */
  rephraseThreshold?: number;
}

/** A turn's verdict before it becomes a Signal. */
export interface Judgement {
  polarity: Polarity;
  categories: Category[];
  confidence: number;
  /** Every category with a non-zero score. */
  scores: Partial<Record<Category, number>>;
  evidence: Evidence[];
}

export interface TurnContext {
  /** The turn's index in the conversation (for evidence). */
  turn: number;
  language?: string;
  /** The user's previous request, for rephrase detection. */
  previousRequest?: string;
  /** The assistant answer being judged. */
  answer?: string;
}

function combine(scores: Map<Category, number>, category: Category, weight: number): void {
  const before = scores.get(category) ?? 0;
  scores.set(category, Math.min(0.99, 1 - (1 - before) * (1 - weight)));
}

/** Function words of the lexicon languages that a rephrasing adds or drops freely. */
const FUNCTION_WORDS = new Set(
  (
    'a an the to of in on at by for with from and or but that this these those it its is are was were be been do does did ' +
    'can could would should will please me my i you your we our some any more just also so then now as into about than ' +
    'el la los las un una de del y o que en por para con es se lo le les des du et ou est pour dans avec der die das ein ' +
    'eine und oder ist zu mit von für и в на с по что это не как для o os as um uma e da do em com para'
  ).split(' '),
);
const CONTINUATION =
  /^[\s\p{P}]*(?:please |pls )?(?:continue|go on|keep going|next|more|продолж\p{L}*|дальше|继续|接着|continúa|continua|continue[sz]?|weiter|mach weiter|tiếp tục)/iu;

/**
 * The similarity of a user turn to the previous request when the turn rephrases or repeats it,
 * else null. Not a rephrase: a short turn, a "continue", or the same template with different
 * content ("Tools similar to kibana" after "Tools similar to kentico"): both sides then hold content
 * words the other lacks (compared by their first four letters, so "sort"/"sorts" still match).
 */
export function rephraseSimilarity(previous: string, text: string, threshold: number): number | null {
  const before = tokenize(previous, 2000);
  const after = tokenize(text, 2000);
  if (before.length < 3 || after.length < 3 || CONTINUATION.test(text)) return null;
  const similarity = turnSimilarity(previous, text);
  if (similarity < threshold) return null;
  const words = (tokens: typeof before) => new Set(tokens.map((token) => token.text));
  const left = words(before);
  const right = words(after);
  const stems = (set: Set<string>) => new Set([...set].map((word) => word.slice(0, 4)));
  const leftStems = stems(left);
  const rightStems = stems(right);
  const changed = (own: Set<string>, other: Set<string>, otherStems: Set<string>) =>
    [...own].filter((word) => !other.has(word) && !FUNCTION_WORDS.has(word) && !otherStems.has(word.slice(0, 4)));
  if (changed(left, right, rightStems).length > 0 && changed(right, left, leftStems).length > 0) return null;
  return similarity;
}

/** Judges one user turn with the rules; exported for tests and for the UI's rule tester. */
export function judgeTurn(text: string, context: TurnContext, options: RulesOptions = {}): Judgement {
  const threshold = options.rephraseThreshold ?? 0.6;
  const scanned = text.slice(0, SCAN_LIMIT);
  const evidence: Evidence[] = [];
  // Noisy-or within a language; across languages the strongest reading counts, so that one "ok"
  // read by five Latin-script lexicons is one cue, not five. Every-language cues (emoji) add on.
  const universal = new Map<Category, number>();
  const strongest = new Map<Category, number>();
  for (const language of languagesFor(context.language, scanned)) {
    const local = language === '*' ? universal : new Map<Category, number>();
    for (const rule of BY_LANGUAGE.get(language) ?? []) {
      const matches = matchRule(rule, scanned);
      if (matches.length === 0) continue;
      combine(local, rule.category, rule.weight);
      for (const match of matches) {
        evidence.push({
          turn: context.turn,
          start: match.start,
          end: match.end,
          rule: rule.id,
          category: rule.category,
          weight: rule.weight,
        });
      }
    }
    if (language === '*') continue;
    for (const [category, score] of local) strongest.set(category, Math.max(strongest.get(category) ?? 0, score));
  }
  const scores = new Map(strongest);
  for (const [category, score] of universal) combine(scores, category, score);

  const satBefore = Math.max(0, ...[...scores].filter(([category]) => isSatCategory(category)).map(([, s]) => s));
  if (satBefore < NAMED && context.previousRequest !== undefined) {
    const similarity = rephraseSimilarity(context.previousRequest, text, threshold);
    if (similarity !== null) {
      const weight = Math.min(0.95, 0.55 + (0.4 * (similarity - threshold)) / Math.max(1e-6, 1 - threshold));
      combine(scores, 'revision', weight);
      evidence.push({
        turn: context.turn,
        start: 0,
        end: text.length,
        rule: REPHRASE_RULE_ID,
        category: 'revision',
        weight: Math.round(similarity * 1000) / 1000,
      });
    }
  }

  if (context.answer !== undefined && endsWithQuestion(context.answer) && !answersQuestion(scanned)) {
    combine(scores, 'no_engagement', 0.35);
    evidence.push({
      turn: context.turn,
      start: 0,
      end: 0,
      rule: UNANSWERED_RULE_ID,
      category: 'no_engagement',
      weight: 0.35,
    });
  }

  evidence.sort((a, b) => a.start - b.start || a.end - b.end);
  let sat = 0;
  let dsat = 0;
  for (const [category, score] of scores) {
    if (isDsatCategory(category)) dsat = Math.max(dsat, score);
    else sat = Math.max(sat, score);
  }
  const polarity = polarityOf(sat >= NAMED, dsat >= NAMED);
  const categories = [...scores]
    .filter(([, score]) => score >= NAMED)
    .sort((a, b) => b[1] - a[1])
    .map(([category]) => category);
  const confidence =
    polarity === 'neither'
      ? Math.min(0.8, Math.max(0.5, 1 - Math.max(sat, dsat)))
      : polarity === 'sat'
        ? sat
        : polarity === 'dsat'
          ? dsat
          : Math.max(sat, dsat);
  return {
    polarity,
    categories,
    confidence: Math.round(confidence * 1000) / 1000,
    scores: Object.fromEntries(scores),
    evidence,
  };
}

function endsWithQuestion(answer: string): boolean {
  return /[?？]\s*$/u.test(answer.slice(-300));
}

const ANSWER_OPENING =
  /^[\s\p{P}]*(?:yes|no|yeah|yep|nope|sure|ok|okay|please|both|neither|the first|the second|да|нет|是|不|好|sí|si|oui|non|ja|nein|sim|não|네|아니)/iu;

function answersQuestion(text: string): boolean {
  return ANSWER_OPENING.test(text) || text.trim().length < 40;
}

/** The rules detector; see the module comment. */
export class RulesDetector implements Detector {
  readonly name = 'rules' as const;
  readonly #options: RulesOptions;

  constructor(options: RulesOptions = {}) {
    this.#options = options;
  }

  detect(conversation: Conversation): Signal[] {
    const timeline = timelineOf(conversation);
    const signals: Signal[] = [];
    for (const message of timeline) {
      if (message.role !== 'user') continue;
      const judged = judgedTurnOf(timeline, message.turn);
      if (judged === undefined) continue;
      const previous = previousUserTurn(timeline, judged);
      const judgement = judgeTurn(
        message.content,
        {
          turn: message.turn,
          language: conversation.language,
          previousRequest: previous === undefined ? undefined : timeline[previous]?.content,
          answer: timeline[judged]?.content,
        },
        this.#options,
      );
      signals.push({
        conversationId: conversation.id,
        turn: message.turn,
        judgedTurn: judged,
        polarity: judgement.polarity,
        categories: judgement.categories,
        confidence: judgement.confidence,
        detector: 'rules',
        evidence: judgement.evidence,
      });
    }
    return signals;
  }
}

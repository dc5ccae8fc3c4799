/**
 * The checker: whether a response answers a task, and if not, why. It reads the answer the way a
 * person would:
 *
 * - numeric tasks: the last number the response states ("23 + 45 = 68" answers 68); a unit named
 *   right after it must be the unit asked for;
 * - word tasks (capitals, reversed or upper-cased words): the first sentence after the last "is",
 *   "'s", ":" or "=" on the last line ("The capital of France is Paris."), without quotes and end
 *   punctuation;
 * - lists: the items, one per line or separated by commas (a lead-in line such as "Here are three
 *   fruits:" is skipped), each checked against the bundled table, with their count and format;
 * - a task that asks for the bare answer fails when the response says more than the answer;
 * - every task expects a short answer: a response over {@link MAX_RESPONSE_CHARS} characters fails.
 *
 * Reasons come in order of importance: what is wrong with the answer first, then its form.
 */
import type { Task, TaskValues } from './tasks.js';
import { expectedAnswer, sortedItems, valuesOf } from './tasks.js';
import { LIST_CATEGORIES, UNITS } from './tables.js';

/** Longer than any right answer to these tasks by far (the longest, a list of five, is under 80). */
export const MAX_RESPONSE_CHARS = 200;

export type ReasonCode =
  | 'empty'
  | 'no_answer'
  | 'wrong_value'
  | 'wrong_unit'
  | 'wrong_count'
  | 'not_in_category'
  | 'duplicate_item'
  | 'wrong_order'
  | 'missing_item'
  | 'extra_item'
  | 'wrong_format'
  | 'extra_text'
  | 'too_long';

export interface FailureReason {
  code: ReasonCode;
  /** One sentence for people. */
  message: string;
  /** What the response gave (the answer read from it, an item, a count, a unit). */
  given?: string;
  /** What the task expects, where there is one right value. */
  expected?: string;
}

export interface CheckResult {
  success: boolean;
  /** Empty on success. */
  reasons: FailureReason[];
  /** The answer as read from the response (a number, a word, or the items joined by ", "). */
  answer: string | null;
}

/** Failure reasons about an answer's form (a sentence where the answer alone was asked for, another list format, too long), not its content. */
export const FORM_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['extra_text', 'wrong_format', 'too_long']);

/** Whether the checker failed an answer on its form alone: the content is right, and the user's feedback can fix the rest. */
export function failsOnFormAlone(verdict: CheckResult): boolean {
  return !verdict.success && verdict.reasons.every((reason) => FORM_REASONS.has(reason.code));
}

/** Checks `response` against `task`; see the module comment for how answers are read. */
export function checkAnswer(task: Task, response: string): CheckResult {
  const text = response.trim();
  if (text === '') return fail([{ code: 'empty', message: 'The response is empty.' }], null);
  const values = valuesOf(task);
  const { reasons, answer } = checkValues(values, text);
  if (task.answerOnly && answer !== null && !isBare(text, expectedAnswer(values))) {
    reasons.push({
      code: 'extra_text',
      message: 'The task asked for the answer alone, and the response says more.',
      given: text,
      expected: expectedAnswer(values),
    });
  }
  if (text.length > MAX_RESPONSE_CHARS) {
    reasons.push({
      code: 'too_long',
      message: `The response has ${text.length} characters; a short answer was asked for.`,
      given: String(text.length),
    });
  }
  return reasons.length === 0 ? { success: true, reasons, answer } : fail(reasons, answer);
}

function fail(reasons: FailureReason[], answer: string | null): CheckResult {
  return { success: false, reasons, answer };
}

function checkValues(values: TaskValues, text: string): { reasons: FailureReason[]; answer: string | null } {
  switch (values.kind) {
    case 'arithmetic':
      return checkNumber(text, expectedAnswer(values));
    case 'unit_conversion':
      return checkConversion(values, text);
    case 'string':
      if (values.operation === 'count_letters') return checkNumber(text, expectedAnswer(values));
      return checkWord(text, expectedAnswer(values), values.operation === 'uppercase');
    case 'capital':
      return checkWord(text, expectedAnswer(values), false);
    case 'list':
      return checkList(values, text);
    case 'sort':
      return checkSort(values, text);
  }
}

const NUMBER = /(?<![\p{L}\d.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\p{L}\d.])-?\d+(?:\.\d+)?(?![\d])/gu;

/** Every number the text states, with where it ends. */
function numbersIn(text: string): { value: number; raw: string; end: number }[] {
  return [...text.matchAll(NUMBER)].map((match) => ({
    value: Number(match[0].replace(/,/g, '')),
    raw: match[0],
    end: (match.index ?? 0) + match[0].length,
  }));
}

function checkNumber(text: string, expected: string): { reasons: FailureReason[]; answer: string | null } {
  const last = numbersIn(text).at(-1);
  if (!last) return { reasons: [{ code: 'no_answer', message: 'The response states no number.' }], answer: null };
  const answer = String(last.value);
  if (last.value !== Number(expected)) {
    return {
      reasons: [{ code: 'wrong_value', message: `The answer is ${answer}, not ${expected}.`, given: answer, expected }],
      answer,
    };
  }
  return { reasons: [], answer };
}

function checkConversion(
  values: Extract<TaskValues, { kind: 'unit_conversion' }>,
  text: string,
): { reasons: FailureReason[]; answer: string | null } {
  const result = checkNumber(text, expectedAnswer(values));
  const last = numbersIn(text).at(-1);
  if (!last) return result;
  const after = /^\s*([\p{L}]+)/u.exec(text.slice(last.end))?.[1]?.toLowerCase();
  const named =
    after === undefined ? undefined : Object.entries(UNITS).find(([, unit]) => unit.aliases.includes(after));
  if (named && named[0] !== values.to) {
    result.reasons.push({
      code: 'wrong_unit',
      message: `The answer is in ${named[1].name}, not ${UNITS[values.to]?.name ?? values.to}.`,
      given: after,
      expected: UNITS[values.to]?.name ?? values.to,
    });
  }
  return result;
}

const QUOTES_AND_END = /^[\s"'“”‘’`«»*]+|[\s"'“”‘’`«»*.!?,;:]+$/gu;

/** The answer part of a sentence: after the last "is", "'s", ":" or "=", unquoted. */
export function statedAnswer(text: string): string {
  const line =
    text
      .split('\n')
      .filter((part) => part.trim() !== '')
      .at(-1) ?? '';
  const separators = [...line.matchAll(/\s(?:is|are|was)\s|['’]s\s|:\s*|=\s*|→\s*/giu)];
  const last = separators.at(-1);
  const tail = last === undefined ? line : line.slice((last.index ?? 0) + last[0].length);
  // Only the first sentence after it: "Paris. Let me know if you need more."
  const sentence = tail.split(/(?<=[.!?])\s+/u)[0] ?? '';
  return sentence.replace(QUOTES_AND_END, '').trim();
}

/** Lower case without accents, for comparing names. */
function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

function checkWord(
  text: string,
  expected: string,
  caseMatters: boolean,
): { reasons: FailureReason[]; answer: string | null } {
  const answer = statedAnswer(text);
  if (answer === '')
    return { reasons: [{ code: 'no_answer', message: 'The response states no answer.' }], answer: null };
  const same = caseMatters ? answer === expected : fold(answer) === fold(expected);
  if (same) return { reasons: [], answer };
  return {
    reasons: [
      { code: 'wrong_value', message: `The answer is "${answer}", not "${expected}".`, given: answer, expected },
    ],
    answer,
  };
}

/** Whether the response is the bare answer, give or take quotes, end punctuation and case. */
function isBare(text: string, expected: string): boolean {
  const bare = text.replace(QUOTES_AND_END, '').replace(/(\d),(?=\d{3}\b)/g, '$1');
  return fold(bare) === fold(expected);
}

type ParsedFormat = 'comma' | 'numbered' | 'lines';

/** A list response's items (normalised) and the format it was written in. */
export function parseList(text: string): { items: string[]; format: ParsedFormat } {
  let lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length > 1 && /:\s*$/.test(lines[0] as string)) lines = lines.slice(1);
  if (lines.length === 1) {
    const line = lines[0] as string;
    const body = line.includes(':') ? line.slice(line.lastIndexOf(':') + 1) : line;
    const items = body
      .split(/,|;|\band\b/u)
      .map(normaliseItem)
      .filter((item) => item !== '');
    return { items, format: 'comma' };
  }
  const numbered = lines.every((line) => /^\d+\s*[.)]/.test(line));
  return { items: lines.map(normaliseItem).filter((item) => item !== ''), format: numbered ? 'numbered' : 'lines' };
}

function normaliseItem(item: string): string {
  return item
    .trim()
    .replace(/^(?:\d+\s*[.)]|[-*•])\s*/u, '')
    .replace(QUOTES_AND_END, '')
    .replace(/^(?:an?|the)\s+/iu, '')
    .toLowerCase()
    .trim();
}

/** The member of the table an item names, allowing a plural ("apples", "peaches"). */
function memberNamed(item: string, members: readonly string[]): string | undefined {
  for (const candidate of [item, item.replace(/es$/u, ''), item.replace(/s$/u, '')]) {
    if (members.includes(candidate)) return candidate;
  }
  return undefined;
}

const FORMAT_NAMES: Record<ParsedFormat, string> = {
  comma: 'comma-separated on one line',
  numbered: 'a numbered list',
  lines: 'one per line',
};

function checkList(
  values: Extract<TaskValues, { kind: 'list' }>,
  text: string,
): { reasons: FailureReason[]; answer: string | null } {
  const category = LIST_CATEGORIES[values.category];
  if (!category) throw new RangeError(`No list category ${values.category}`);
  const { items, format } = parseList(text);
  if (items.length === 0)
    return { reasons: [{ code: 'no_answer', message: 'The response lists nothing.' }], answer: null };
  const reasons: FailureReason[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const member = memberNamed(item, category.members);
    if (member === undefined) {
      reasons.push({ code: 'not_in_category', message: `"${item}" is not a ${category.singular}.`, given: item });
      continue;
    }
    if (seen.has(member)) {
      reasons.push({ code: 'duplicate_item', message: `"${item}" is listed twice.`, given: item });
    }
    seen.add(member);
  }
  if (items.length !== values.count) {
    reasons.push({
      code: 'wrong_count',
      message: `The response lists ${items.length} ${category.plural}, not ${values.count}.`,
      given: String(items.length),
      expected: String(values.count),
    });
  }
  if (format !== values.format && !(items.length === 1 && values.count === 1)) {
    reasons.push({
      code: 'wrong_format',
      message: `The list is ${FORMAT_NAMES[format]}, not ${FORMAT_NAMES[values.format]}.`,
      given: format,
      expected: values.format,
    });
  }
  return { reasons, answer: items.join(', ') };
}

function checkSort(
  values: Extract<TaskValues, { kind: 'sort' }>,
  text: string,
): { reasons: FailureReason[]; answer: string | null } {
  const { items } = parseList(text);
  if (items.length === 0)
    return { reasons: [{ code: 'no_answer', message: 'The response lists nothing.' }], answer: null };
  const expected = sortedItems(values).map((item) => item.toLowerCase());
  const canonical = (item: string) => (values.numeric && /^-?\d+$/.test(item) ? String(Number(item)) : item);
  const given = items.map(canonical);
  const answer = given.join(', ');
  const reasons: FailureReason[] = [];
  for (const item of expected) {
    if (!given.includes(item)) reasons.push({ code: 'missing_item', message: `"${item}" is missing.`, expected: item });
  }
  for (const item of given) {
    if (!expected.includes(item))
      reasons.push({ code: 'extra_item', message: `"${item}" was not in the list.`, given: item });
  }
  if (reasons.length === 0 && given.length > expected.length) {
    const repeated = given.find((item, index) => given.indexOf(item) !== index) as string;
    reasons.push({ code: 'duplicate_item', message: `"${repeated}" is listed twice.`, given: repeated });
  }
  if (reasons.length === 0 && given.join('\u0000') !== expected.join('\u0000')) {
    reasons.push({
      code: 'wrong_order',
      message: `The order is ${answer}, not ${expected.join(', ')}.`,
      given: answer,
      expected: expected.join(', '),
    });
  }
  return { reasons, answer };
}

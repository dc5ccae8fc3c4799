/**
 * The simulated deployment's tasks: short requests whose answers a program can check (arithmetic,
 * unit conversion, word transformations, lists of a category in a given format, sorting, capital
 * cities), each asked in many phrasings, some with a length constraint ("just the number").
 *
 * Every task belongs to a split, decided by a hash of its kind, phrasing and values: about one
 * task in five is `heldout`. Training data and deployment draw from `train`; evaluation draws
 * from `heldout`, so it measures prompts the model never saw (their facts, such as a country's
 * capital, may have appeared under another phrasing).
 */
import { Random } from '../model/index.js';
import type { UnitName } from './tables.js';
import { CAPITALS, CONVERSIONS, LIST_CATEGORIES, UNITS, WORDS } from './tables.js';

export const TASK_KINDS = ['arithmetic', 'unit_conversion', 'string', 'list', 'sort', 'capital'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export type Split = 'train' | 'heldout';
/** The languages prompts and user turns are written in (ISO 639-1). */
export type SimLanguage = 'en' | 'es' | 'fr' | 'de' | 'pt' | 'it' | 'ru' | 'zh';
export type ListFormat = 'comma' | 'numbered' | 'lines';

interface TaskCommon {
  /** Stable: the kind, the phrasing and the values, hashed. */
  id: string;
  /** The request as the user writes it. */
  prompt: string;
  /** Index of the phrasing in the kind's template list. */
  template: number;
  language: SimLanguage;
  /** The request asks for the bare answer and nothing else ("just the number"). */
  answerOnly: boolean;
  split: Split;
}

export type Task = TaskCommon &
  (
    | { kind: 'arithmetic'; operation: 'add' | 'subtract' | 'multiply'; left: number; right: number }
    | { kind: 'unit_conversion'; value: number; from: UnitName; to: UnitName }
    | { kind: 'string'; operation: 'reverse' | 'uppercase' | 'count_letters'; word: string }
    | { kind: 'list'; category: string; count: number; format: ListFormat }
    | { kind: 'sort'; items: string[]; numeric: boolean }
    | { kind: 'capital'; country: string }
  );

/** A task before it has a phrasing. */
export type TaskValues = DistributiveOmit<Task, keyof TaskCommon>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const HELDOUT_SHARE = 5; // one in five

/** FNV-1a, 32 bits: a stable hash for splits and ids. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export const OPERATION_SYMBOL = { add: '+', subtract: '-', multiply: '*' } as const;
const OPERATION_WORD = { add: 'plus', subtract: 'minus', multiply: 'times' } as const;
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

type Values<K extends TaskKind> = Extract<TaskValues, { kind: K }>;
interface Template<K extends TaskKind> {
  language: SimLanguage;
  render(values: Values<K>): string;
  /** Whether this phrasing fits the values (e.g. a template about adding only fits additions). */
  fits?(values: Values<K>): boolean;
}

const sym = (values: Values<'arithmetic'>) => OPERATION_SYMBOL[values.operation];
const word = (values: Values<'arithmetic'>) => OPERATION_WORD[values.operation];

const ARITHMETIC: Template<'arithmetic'>[] = [
  { language: 'en', render: (v) => `What is ${v.left} ${sym(v)} ${v.right}?` },
  { language: 'en', render: (v) => `what's ${v.left} ${word(v)} ${v.right}` },
  { language: 'en', render: (v) => `Calculate ${v.left} ${sym(v)} ${v.right}.` },
  { language: 'en', render: (v) => `${v.left} ${sym(v)} ${v.right} = ?` },
  { language: 'en', render: (v) => `Can you compute ${v.left} ${word(v)} ${v.right} for me?` },
  { language: 'en', render: (v) => `quick math: ${v.left}${sym(v)}${v.right}` },
  {
    language: 'en',
    render: (v) => `What do you get if you add ${v.left} and ${v.right}?`,
    fits: (v) => v.operation === 'add',
  },
  { language: 'en', render: (v) => `What is the sum of ${v.left} and ${v.right}?`, fits: (v) => v.operation === 'add' },
  {
    language: 'en',
    render: (v) => `What is ${v.left} multiplied by ${v.right}?`,
    fits: (v) => v.operation === 'multiply',
  },
  {
    language: 'en',
    render: (v) => `What is the product of ${v.left} and ${v.right}?`,
    fits: (v) => v.operation === 'multiply',
  },
  {
    language: 'en',
    render: (v) => `Subtract ${v.right} from ${v.left}.`,
    fits: (v) => v.operation === 'subtract',
  },
  {
    language: 'en',
    render: (v) => `If I have ${v.left} apples and give away ${v.right}, how many are left?`,
    fits: (v) => v.operation === 'subtract',
  },
  { language: 'es', render: (v) => `¿Cuánto es ${v.left} ${sym(v)} ${v.right}?` },
  { language: 'fr', render: (v) => `Combien font ${v.left} ${sym(v)} ${v.right} ?` },
  { language: 'de', render: (v) => `Was ist ${v.left} ${sym(v)} ${v.right}?` },
  { language: 'pt', render: (v) => `Quanto é ${v.left} ${sym(v)} ${v.right}?` },
];

const fromName = (v: Values<'unit_conversion'>) => UNITS[v.from]?.name ?? v.from;
const toName = (v: Values<'unit_conversion'>) => UNITS[v.to]?.name ?? v.to;

const UNIT_CONVERSION: Template<'unit_conversion'>[] = [
  { language: 'en', render: (v) => `Convert ${v.value} ${fromName(v)} to ${toName(v)}.` },
  { language: 'en', render: (v) => `How many ${toName(v)} are in ${v.value} ${fromName(v)}?` },
  { language: 'en', render: (v) => `${v.value} ${fromName(v)} in ${toName(v)}?` },
  { language: 'en', render: (v) => `what is ${v.value} ${fromName(v)} in ${toName(v)}` },
  { language: 'en', render: (v) => `Please convert ${v.value} ${fromName(v)} into ${toName(v)}.` },
  { language: 'en', render: (v) => `How much is ${v.value} ${fromName(v)} expressed in ${toName(v)}?` },
  { language: 'en', render: (v) => `I need ${v.value} ${fromName(v)} converted to ${toName(v)}.` },
];

const STRING: Template<'string'>[] = [
  { language: 'en', render: (v) => `Reverse the word "${v.word}".`, fits: (v) => v.operation === 'reverse' },
  { language: 'en', render: (v) => `Spell "${v.word}" backwards.`, fits: (v) => v.operation === 'reverse' },
  { language: 'en', render: (v) => `What is ${v.word} written backwards?`, fits: (v) => v.operation === 'reverse' },
  { language: 'en', render: (v) => `reverse ${v.word}`, fits: (v) => v.operation === 'reverse' },
  { language: 'en', render: (v) => `Write "${v.word}" in capital letters.`, fits: (v) => v.operation === 'uppercase' },
  { language: 'en', render: (v) => `Convert ${v.word} to uppercase.`, fits: (v) => v.operation === 'uppercase' },
  { language: 'en', render: (v) => `uppercase: ${v.word}`, fits: (v) => v.operation === 'uppercase' },
  {
    language: 'en',
    render: (v) => `How many letters are in the word "${v.word}"?`,
    fits: (v) => v.operation === 'count_letters',
  },
  {
    language: 'en',
    render: (v) => `Count the letters in ${v.word}.`,
    fits: (v) => v.operation === 'count_letters',
  },
  {
    language: 'en',
    render: (v) => `how long is the word ${v.word}, in letters?`,
    fits: (v) => v.operation === 'count_letters',
  },
];

const countWord = (count: number) => NUMBER_WORDS[count] ?? String(count);
const plural = (v: Values<'list'>) => LIST_CATEGORIES[v.category]?.plural ?? v.category;
const FORMAT_PHRASES: Record<ListFormat, string[]> = {
  comma: ['separated by commas', 'on one line, comma-separated', 'as a comma-separated list'],
  numbered: ['as a numbered list', 'in a numbered list'],
  lines: ['one per line', 'each on its own line'],
};
const formatPhrase = (v: Values<'list'>, pick: number) => {
  const phrases = FORMAT_PHRASES[v.format];
  return phrases[pick % phrases.length] as string;
};

const LIST: Template<'list'>[] = [
  { language: 'en', render: (v) => `Name ${countWord(v.count)} ${plural(v)}, ${formatPhrase(v, 0)}.` },
  { language: 'en', render: (v) => `List ${v.count} ${plural(v)} ${formatPhrase(v, 1)}.` },
  { language: 'en', render: (v) => `Give me ${countWord(v.count)} ${plural(v)} ${formatPhrase(v, 2)}.` },
  { language: 'en', render: (v) => `I need ${v.count} ${plural(v)}, ${formatPhrase(v, 1)}.` },
  { language: 'en', render: (v) => `Can you list ${countWord(v.count)} ${plural(v)} ${formatPhrase(v, 0)}?` },
  { language: 'en', render: (v) => `${v.count} ${plural(v)} please, ${formatPhrase(v, 2)}` },
];

const itemList = (v: Values<'sort'>) => v.items.join(', ');
const SORT: Template<'sort'>[] = [
  { language: 'en', render: (v) => `Sort these from smallest to largest: ${itemList(v)}`, fits: (v) => v.numeric },
  { language: 'en', render: (v) => `Put these numbers in ascending order: ${itemList(v)}.`, fits: (v) => v.numeric },
  { language: 'en', render: (v) => `order ascending: ${itemList(v)}`, fits: (v) => v.numeric },
  { language: 'en', render: (v) => `Sort these words alphabetically: ${itemList(v)}`, fits: (v) => !v.numeric },
  { language: 'en', render: (v) => `Put these in alphabetical order: ${itemList(v)}.`, fits: (v) => !v.numeric },
  { language: 'en', render: (v) => `alphabetize: ${itemList(v)}`, fits: (v) => !v.numeric },
  { language: 'en', render: (v) => `Can you sort this list for me? ${itemList(v)}` },
];

const CAPITAL: Template<'capital'>[] = [
  { language: 'en', render: (v) => `What is the capital of ${v.country}?` },
  { language: 'en', render: (v) => `capital of ${v.country}?` },
  { language: 'en', render: (v) => `Which city is the capital of ${v.country}?` },
  { language: 'en', render: (v) => `What's ${v.country}'s capital city?` },
  { language: 'en', render: (v) => `Tell me the capital of ${v.country}.` },
  { language: 'en', render: (v) => `Name the capital city of ${v.country}.` },
  { language: 'en', render: (v) => `what city is ${v.country}'s capital` },
];

const TEMPLATES: { [K in TaskKind]: Template<K>[] } = {
  arithmetic: ARITHMETIC,
  unit_conversion: UNIT_CONVERSION,
  string: STRING,
  list: LIST,
  sort: SORT,
  capital: CAPITAL,
};

/** How the constraint reads, by the kind of bare answer. */
const ANSWER_ONLY: Record<'number' | 'word' | 'city', string[]> = {
  number: [
    'Just the number.',
    'Reply with only the number.',
    'Only the number, please.',
    'Answer with just the number.',
  ],
  word: ['Just the word.', 'Reply with only the word.', 'Only the answer, nothing else.'],
  city: ['Just the city name.', 'Only the name, please.', 'One or two words, no sentence.'],
};

function answerOnlyKind(values: TaskValues): keyof typeof ANSWER_ONLY | null {
  switch (values.kind) {
    case 'arithmetic':
    case 'unit_conversion':
      return 'number';
    case 'string':
      return values.operation === 'count_letters' ? 'number' : 'word';
    case 'capital':
      return 'city';
    default:
      return null; // lists carry their own format instruction
  }
}

/** How often each kind is asked, out of the total weight. */
const KIND_WEIGHTS: Record<TaskKind, number> = {
  arithmetic: 3,
  unit_conversion: 2,
  string: 2,
  list: 2,
  sort: 1,
  capital: 3,
};

/** Draws a task's values (no phrasing yet). */
export function drawValues(random: Random, kind: TaskKind = drawKind(random)): TaskValues {
  switch (kind) {
    case 'arithmetic': {
      const operation = (['add', 'subtract', 'multiply'] as const)[random.nextInt(3)] as
        'add' | 'subtract' | 'multiply';
      if (operation === 'multiply')
        return { kind, operation, left: 2 + random.nextInt(8), right: 2 + random.nextInt(8) };
      if (operation === 'add') return { kind, operation, left: 1 + random.nextInt(20), right: 1 + random.nextInt(20) };
      const left = 5 + random.nextInt(21);
      return { kind, operation, left, right: 1 + random.nextInt(left - 1) };
    }
    case 'unit_conversion': {
      const [from, to] = CONVERSIONS[random.nextInt(CONVERSIONS.length)] as (typeof CONVERSIONS)[number];
      return { kind, value: 1 + random.nextInt(10), from, to };
    }
    case 'string': {
      const operation = (['reverse', 'uppercase', 'count_letters'] as const)[random.nextInt(3)] as
        'reverse' | 'uppercase' | 'count_letters';
      return { kind, operation, word: WORDS[random.nextInt(WORDS.length)] as string };
    }
    case 'list': {
      const categories = Object.keys(LIST_CATEGORIES);
      const format = (['comma', 'numbered', 'lines'] as const)[random.nextInt(3)] as ListFormat;
      return {
        kind,
        category: categories[random.nextInt(categories.length)] as string,
        count: 2 + random.nextInt(4),
        format,
      };
    }
    case 'sort': {
      const numeric = random.nextInt(2) === 0;
      const size = 3 + random.nextInt(2);
      if (numeric) {
        const items = pickDistinct(
          random,
          Array.from({ length: 30 }, (_, index) => String(index + 1)),
          size,
        );
        return { kind, items, numeric };
      }
      const pool = [...new Set(Object.values(LIST_CATEGORIES).flatMap((category) => category.members))];
      return { kind, items: pickDistinct(random, pool, size), numeric };
    }
    case 'capital':
      return { kind, country: (CAPITALS[random.nextInt(CAPITALS.length)] as (typeof CAPITALS)[number])[0] };
  }
}

function drawKind(random: Random): TaskKind {
  const total = Object.values(KIND_WEIGHTS).reduce((sum, weight) => sum + weight, 0);
  let draw = random.nextInt(total);
  for (const kind of TASK_KINDS) {
    draw -= KIND_WEIGHTS[kind];
    if (draw < 0) return kind;
  }
  return 'arithmetic';
}

/** `count` distinct members of `pool`, in random order. */
export function pickDistinct<T>(random: Random, pool: readonly T[], count: number): T[] {
  return random
    .permutation(pool.length)
    .slice(0, count)
    .map((index) => pool[index] as T);
}

/** The phrasings (template indices) that fit the values, in a language or any. */
function fittingTemplates(values: TaskValues, language?: SimLanguage): number[] {
  const templates = TEMPLATES[values.kind] as Template<TaskKind>[];
  const fits = templates
    .map((template, index) => ({ template, index }))
    .filter(({ template }) => template.fits?.(values as never) ?? true);
  const inLanguage = fits.filter(({ template }) => template.language === language);
  return (inLanguage.length > 0 ? inLanguage : fits.filter(({ template }) => template.language === 'en')).map(
    ({ index }) => index,
  );
}

function valuesKey(values: TaskValues): string {
  return JSON.stringify(values);
}

/** The split of a task with these values in this phrasing. */
export function splitOf(values: TaskValues, template: number): Split {
  return fnv1a(`${template}|${valuesKey(values)}`) % HELDOUT_SHARE === 0 ? 'heldout' : 'train';
}

/** The task of these values in phrasing `template`; `variant` picks the constraint's wording. */
export function phrase(values: TaskValues, template: number, answerOnly: boolean, variant = 0): Task {
  const templates = TEMPLATES[values.kind] as Template<TaskKind>[];
  const chosen = templates[template];
  if (!chosen) throw new RangeError(`${values.kind} has no template ${template}`);
  let prompt = chosen.render(values as never);
  const constraintKind = answerOnlyKind(values);
  const constrained = answerOnly && constraintKind !== null;
  if (constrained) {
    const wordings = ANSWER_ONLY[constraintKind];
    const wording = wordings[variant % wordings.length] as string;
    // "what's 4 times 8, just the number." where the phrasing has no end punctuation.
    prompt = /[.?!:]$/u.test(prompt)
      ? `${prompt} ${wording}`
      : `${prompt}, ${wording.charAt(0).toLowerCase()}${wording.slice(1)}`;
  }
  const split = splitOf(values, template);
  const id = `${values.kind}-${fnv1a(`${template}|${constrained}|${valuesKey(values)}`)
    .toString(16)
    .padStart(8, '0')}`;
  return { ...values, id, prompt, template, language: chosen.language, answerOnly: constrained, split } as Task;
}

export interface DrawTaskOptions {
  split: Split;
  /** Prefer phrasings in this language where the kind has some (arithmetic does). */
  language?: SimLanguage;
  kind?: TaskKind;
  /** Share of tasks that ask for the bare answer. Default 0.3. */
  answerOnlyShare?: number;
}

/** Draws a task of the given split (values, phrasing, constraint), retrying until the split matches. */
export function drawTask(random: Random, options: DrawTaskOptions): Task {
  const answerOnlyShare = options.answerOnlyShare ?? 0.3;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const values = drawValues(random, options.kind);
    const templates = fittingTemplates(values, options.language).filter(
      (template) => splitOf(values, template) === options.split,
    );
    if (templates.length === 0) continue;
    const template = templates[random.nextInt(templates.length)] as number;
    return phrase(values, template, random.nextFloat() < answerOnlyShare, random.nextInt(12));
  }
  throw new Error(`No ${options.split} task found in 1000 draws`);
}

/**
 * The same task asked another way (a user rephrasing it): another phrasing of the same split
 * (the same one, differently constrained, if it has no other), keeping the constraint.
 */
export function rephraseTask(task: Task, random: Random): Task {
  const values = valuesOf(task);
  const others = fittingTemplates(values, task.language).filter(
    (template) => template !== task.template && splitOf(values, template) === task.split,
  );
  const template = others.length > 0 ? (others[random.nextInt(others.length)] as number) : task.template;
  return phrase(values, template, task.answerOnly, random.nextInt(12));
}

/** The values of a task (what the checker needs), without its phrasing. */
export function valuesOf(task: Task): TaskValues {
  const {
    id: _id,
    prompt: _prompt,
    template: _template,
    language: _language,
    answerOnly: _only,
    split: _split,
    ...values
  } = task;
  return values as TaskValues;
}

/**
 * The group a task's results are reported under: its kind, with "answer only" where the prompt
 * asks for the bare answer (a different skill: the form is what fails first) and a list's format.
 * E.g. "arithmetic", "capital (answer only)", "list (comma)".
 */
export function taskGroup(task: Task): string {
  if (task.kind === 'list') return `list (${task.format})`;
  return task.answerOnly ? `${task.kind} (answer only)` : task.kind;
}

/** `count` tasks of the held-out split, the same for the same seed: what evaluation asks. */
export function heldOutTasks(count: number, seed: number): Task[] {
  const random = new Random(seed, 0x4e1d);
  return Array.from({ length: count }, () => drawTask(random, { split: 'heldout' }));
}

/** The capital of a country in the table. */
export function capitalOf(country: string): string {
  const found = CAPITALS.find(([name]) => name === country);
  if (!found) throw new RangeError(`No capital for ${country}`);
  return found[1];
}

/** The bare answer a task expects: a number, a word, a city, or the items of a list joined by commas. */
export function expectedAnswer(task: TaskValues): string {
  switch (task.kind) {
    case 'arithmetic':
      return String(
        task.operation === 'add'
          ? task.left + task.right
          : task.operation === 'subtract'
            ? task.left - task.right
            : task.left * task.right,
      );
    case 'unit_conversion': {
      const conversion = CONVERSIONS.find(([from, to]) => from === task.from && to === task.to);
      if (!conversion) throw new RangeError(`No conversion from ${task.from} to ${task.to}`);
      return String(task.value * conversion[2]);
    }
    case 'string':
      return task.operation === 'reverse'
        ? [...task.word].reverse().join('')
        : task.operation === 'uppercase'
          ? task.word.toUpperCase()
          : String([...task.word].length);
    case 'sort':
      return sortedItems(task).join(', ');
    case 'capital':
      return capitalOf(task.country);
    case 'list':
      return ''; // many answers are right; the checker tests membership
  }
}

/** The items of a sort task in the requested order. */
export function sortedItems(task: Extract<TaskValues, { kind: 'sort' }>): string[] {
  return [...task.items].sort((a, b) => (task.numeric ? Number(a) - Number(b) : a.localeCompare(b, 'en')));
}

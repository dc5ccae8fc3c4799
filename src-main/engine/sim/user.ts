/**
 * The simulated user: reacts to an answer the way WildFeedback's users do (reference/drift-paper.md
 * §4.1, Shi et al., arXiv 2408.15549). A user turn is judged as a reaction to the assistant turn
 * before it:
 *
 * - after a failure, a DSAT turn whose category fits what went wrong: Revision (the request again,
 *   rephrased), Factual Error (points at the wrong value or item), Style ("too long, just the
 *   number", the wrong list format), Ignored (the count or unit asked for was missed), Negative
 *   Feedback (a complaint); when the user runs out of patience, a complaint that ends the chat, a
 *   No Engagement turn that moves on ("never mind. …"), or silence;
 * - after a success, a SAT turn (Gratitude, Acknowledgment, Praise, Positive Closure; Getting
 *   There after earlier failures), a SAT turn with a new request, a new request alone, an
 *   off-topic turn, or silence.
 *
 * Users write in one of several languages (most in English), and their reactions carry noise:
 * typos, lower case, dropped punctuation. Noise never touches the task itself (numbers, words,
 * names), so the request stays what it was. The label is the turn's ground truth: what the user
 * meant, whatever a detector later reads into it.
 */
import type { Category } from '../../api/index.js';
import type { Random } from '../model/index.js';
import type { CheckResult, FailureReason } from './checker.js';
import type { SimLanguage, Task } from './tasks.js';
import { drawTask, expectedAnswer, rephraseTask, valuesOf } from './tasks.js';
import { LIST_CATEGORIES, UNITS } from './tables.js';

/** A user turn's ground truth: the polarity and categories it expresses about the answer before it. */
export interface TurnLabel {
  polarity: 'sat' | 'dsat' | 'neither';
  categories: Category[];
}

/** What the user does next. */
export type UserMove =
  /** Asks the same task again (after a failure); `task` is the task as now phrased. */
  | 'retry'
  /** Poses a new task (`task`). */
  | 'new_task'
  /** Says something that needs no checked answer (thanks, closure, complaint, off-topic); the assistant replies, then… */
  | 'chat'
  /** Leaves without a word: the conversation ends here. */
  | 'leave';

export interface UserTurn {
  /** The user's message; '' when the user leaves. */
  text: string;
  label: TurnLabel;
  move: UserMove;
  /** The task the turn poses ('retry', 'new_task'). */
  task?: Task;
  /** After a 'chat' turn: whether the user goes on with a new task once the assistant replied. */
  continues?: boolean;
}

/** The user's state that shapes a reaction. */
export interface ReactionContext {
  language: SimLanguage;
  /** Failed answers to the current task so far, this one included when it failed. */
  failures: number;
  /** Failed answers the user tolerates before giving up. */
  patience: number;
  /** Whether the user may still ask another task. */
  moreTasks: boolean;
  /** Probability of a typo in the user's own words. */
  typoRate: number;
}

export const DEFAULT_CONTEXT: ReactionContext = {
  language: 'en',
  failures: 0,
  patience: 2,
  moreTasks: true,
  typoRate: 0.1,
};

type Phrases = Partial<Record<Category | 'rephrase' | 'next', string[]>>;

/**
 * Reaction wordings by language. `{given}`, `{item}`, `{count}`, `{got}`, `{unit}`, `{singular}`,
 * `{plural}`, `{format}` are filled in from the check; `rephrase` prefixes a restated request;
 * `next` introduces a new request after a SAT turn.
 */
const PHRASES: Record<SimLanguage, Phrases> = {
  en: {
    factual_error: [
      "No, that's wrong.",
      "That's not right.",
      'Wrong answer.',
      'That is incorrect.',
      "{given} is wrong. That's not correct.",
      'Are you sure? I think you made a mistake.',
      "Hmm, that's not correct, check it again.",
      'Nope, {given} is wrong.',
      "That's not true, the answer isn't {given}.",
      "You made a mistake, it's not {given}.",
    ],
    rephrase: ['', '', 'I mean: ', 'Let me rephrase. ', 'Try again. ', 'No. ', 'What I meant was: ', 'again: '],
    style: [
      'Too long, just the answer.',
      'Too long. Just the {what} please.',
      'I only wanted the answer, not a sentence.',
      'Shorter please, only the answer.',
      'Why so wordy? Just give me the answer.',
      'Way too long.',
    ],
    ignored: [
      "You didn't answer my question.",
      "That doesn't answer what I asked.",
      'You ignored my question.',
      'You missed what I asked for.',
    ],
    negative_feedback: [
      "Ugh, that's useless.",
      'Come on, this is so frustrating.',
      "That's a bad answer.",
      "Seriously? That's not it.",
      "This isn't helpful at all.",
      "I'm getting frustrated with this.",
    ],
    no_engagement: ['Whatever. ', 'Forget it. ', 'Never mind. ', 'nvm. '],
    gratitude: ['Thanks!', 'Thank you!', 'thx', 'Thanks a lot.', 'Thank you so much!', 'ty'],
    acknowledgment: ['Ok.', 'Got it.', 'OK, makes sense.', 'Alright, got it.', 'I see, ok.'],
    praise: ['Perfect!', "Great, that's exactly it.", 'Nice!', 'Awesome.', 'Excellent, spot on.'],
    positive_closure: [
      "Thanks, that's all I needed. Bye!",
      'Great, that solves it. Have a nice day!',
      "That's all, thanks. Goodbye!",
    ],
    getting_there: ["That's better.", 'Better, thanks.', 'Finally, now that is right.', 'Much better now.'],
    next: ['Next: ', 'Now: ', 'Another question. ', 'And: ', 'One more: ', ''],
  },
  es: {
    factual_error: ['No, eso está mal.', 'Eso es incorrecto.', 'Incorrecto, {given} no es la respuesta.'],
    rephrase: ['Otra vez: ', 'Inténtalo de nuevo: '],
    style: ['Demasiado largo, solo la respuesta por favor.', 'Solo el número, por favor.'],
    ignored: ['No respondiste a mi pregunta.', 'Ignoraste lo que te pedí.'],
    negative_feedback: ['Esto no sirve para nada.', 'Qué frustrante.'],
    no_engagement: ['Olvídalo. ', 'Da igual. '],
    gratitude: ['¡Gracias!', 'Muchas gracias.'],
    acknowledgment: ['Vale.', 'Entendido.'],
    praise: ['¡Perfecto!', '¡Genial!'],
    positive_closure: ['Gracias, eso es todo. ¡Adiós!'],
    getting_there: ['Mucho mejor.'],
    next: ['Otra pregunta: ', ''],
  },
  fr: {
    factual_error: ["Non, c'est faux.", "C'est incorrect.", "Faux, ce n'est pas {given}."],
    rephrase: ['Encore une fois : ', 'Réessaie : '],
    style: ["Trop long, juste la réponse s'il te plaît.", 'Juste le nombre, merci.'],
    ignored: ["Tu n'as pas répondu à ma question."],
    negative_feedback: ['Ça ne sert à rien.', "C'est nul."],
    no_engagement: ['Laisse tomber. ', 'Peu importe. '],
    gratitude: ['Merci !', 'Merci beaucoup.'],
    acknowledgment: ["D'accord.", 'Compris.'],
    praise: ['Parfait !', 'Super !'],
    positive_closure: ["Merci, c'est tout. Bonne journée !"],
    getting_there: ["C'est mieux."],
    next: ['Autre question : ', ''],
  },
  de: {
    factual_error: ['Nein, das ist falsch.', 'Das stimmt nicht.', 'Falsch, {given} ist nicht richtig.'],
    rephrase: ['Nochmal: ', 'Versuch es noch einmal: '],
    style: ['Zu lang, nur die Antwort bitte.', 'Nur die Zahl, bitte.'],
    ignored: ['Du hast meine Frage nicht beantwortet.'],
    negative_feedback: ['Das ist nutzlos.', 'Wie frustrierend.'],
    no_engagement: ['Egal. ', 'Vergiss es. '],
    gratitude: ['Danke!', 'Vielen Dank.'],
    acknowledgment: ['Okay.', 'Verstanden.'],
    praise: ['Perfekt!', 'Super!'],
    positive_closure: ["Danke, das war's. Tschüss!"],
    getting_there: ['Schon besser.'],
    next: ['Nächste Frage: ', ''],
  },
  pt: {
    factual_error: ['Não, isso está errado.', 'Está incorreto.'],
    rephrase: ['De novo: ', 'Tente outra vez: '],
    style: ['Muito longo, só a resposta por favor.'],
    ignored: ['Você não respondeu à minha pergunta.'],
    negative_feedback: ['Isso não ajuda em nada.', 'Que frustrante.'],
    no_engagement: ['Esquece. ', 'Tanto faz. '],
    gratitude: ['Obrigado!', 'Valeu!'],
    acknowledgment: ['Ok, entendi.'],
    praise: ['Perfeito!', 'Ótimo!'],
    positive_closure: ['Obrigado, era só isso. Tchau!'],
    getting_there: ['Agora sim, melhor.'],
    next: ['Outra pergunta: ', ''],
  },
  it: {
    factual_error: ['No, è sbagliato.', 'Non è corretto.'],
    rephrase: ['Di nuovo: ', 'Riprova: '],
    style: ['Troppo lungo, solo la risposta per favore.'],
    ignored: ['Non hai risposto alla mia domanda.'],
    negative_feedback: ['Non serve a niente.', 'Che frustrazione.'],
    no_engagement: ['Lascia perdere. ', 'Non importa. '],
    gratitude: ['Grazie!', 'Grazie mille.'],
    acknowledgment: ['Ok, capito.'],
    praise: ['Perfetto!', 'Ottimo!'],
    positive_closure: ['Grazie, è tutto. Ciao!'],
    getting_there: ['Così va meglio.'],
    next: ['Altra domanda: ', ''],
  },
  ru: {
    factual_error: ['Нет, это неправильно.', 'Это неверно.'],
    rephrase: ['Ещё раз: ', 'Попробуй снова: '],
    style: ['Слишком длинно, только ответ, пожалуйста.'],
    ignored: ['Ты не ответил на мой вопрос.'],
    negative_feedback: ['Это бесполезно.', 'Как же это раздражает.'],
    no_engagement: ['Неважно. ', 'Забудь. '],
    gratitude: ['Спасибо!', 'Большое спасибо.'],
    acknowledgment: ['Понятно.', 'Ок.'],
    praise: ['Отлично!', 'Супер!'],
    positive_closure: ['Спасибо, это всё. Пока!'],
    getting_there: ['Уже лучше.'],
    next: ['Следующий вопрос: ', ''],
  },
  zh: {
    factual_error: ['不对，这是错的。', '答案不正确。'],
    rephrase: ['再试一次：', '重新回答：'],
    style: ['太长了，只要答案。'],
    ignored: ['你没有回答我的问题。'],
    negative_feedback: ['这没用。', '真让人失望。'],
    no_engagement: ['算了。', '无所谓。'],
    gratitude: ['谢谢！', '非常感谢。'],
    acknowledgment: ['好的。', '明白了。'],
    praise: ['太好了！', '完美！'],
    positive_closure: ['谢谢，就这些。再见！'],
    getting_there: ['好多了。'],
    next: ['下一个问题：', ''],
  },
};

/**
 * English-only wordings that name the specific problem (used by English speakers). Some say what
 * the right answer is, as users who know it do when they correct a model (`{expected}`).
 */
const SPECIFIC: Partial<Record<FailureReason['code'], { category: Category; phrases: string[] }[]>> = {
  wrong_value: [
    {
      category: 'factual_error',
      phrases: [
        "No, it's {expected}.",
        'Wrong, the answer is {expected}, not {given}.',
        "That's not right, it should be {expected}.",
        '{given} is wrong. Check it again.',
      ],
    },
  ],
  wrong_count: [
    {
      category: 'ignored',
      phrases: [
        'I asked for {count} {plural}, you gave me {got}.',
        'I said {count}, not {got}.',
        'You ignored the number I asked for. I want exactly {count}.',
      ],
    },
  ],
  wrong_unit: [
    {
      category: 'ignored',
      phrases: [
        'I asked for it in {unit}.',
        'You ignored the unit, I need {unit}.',
        'In {unit}, please, like I asked.',
      ],
    },
    { category: 'factual_error', phrases: ["That's wrong, the answer should be in {unit}."] },
  ],
  not_in_category: [
    {
      category: 'factual_error',
      phrases: ["That's wrong, {item} is not a {singular}.", "{item} isn't a {singular}, that's not right."],
    },
  ],
  duplicate_item: [
    {
      category: 'factual_error',
      phrases: ['You made a mistake, {item} is in there twice.', "There's a mistake: you listed {item} twice."],
    },
  ],
  wrong_format: [
    {
      category: 'style',
      phrases: ['Please format it as {format}.', 'Can you put it {format}? That format is not what I wanted.'],
    },
    { category: 'ignored', phrases: ['You ignored the format, I asked for {format}.'] },
  ],
  wrong_order: [
    {
      category: 'factual_error',
      phrases: [
        "That's not sorted correctly.",
        "Wrong order, that's not correct.",
        "That's incorrect, check the order.",
        'Wrong order, it should be {expected}.',
      ],
    },
  ],
  missing_item: [{ category: 'ignored', phrases: ['You left out {item}.', 'You missed {item}, it was in my list.'] }],
  extra_item: [{ category: 'factual_error', phrases: ["That's wrong, {item} wasn't in my list."] }],
  extra_text: [
    {
      category: 'style',
      phrases: [
        'Too long, just the answer.',
        'Just the answer please, no full sentence.',
        'I only wanted the answer itself.',
        'Shorter. Only the answer.',
      ],
    },
    { category: 'ignored', phrases: ['I said just the answer. You ignored that.'] },
  ],
  too_long: [
    {
      category: 'style',
      phrases: ['Way too long, just the answer.', 'Too long. Keep it short.', 'Why so long? I need a short answer.'],
    },
  ],
};

const LIST_FORMAT_WORDS = { comma: 'a comma-separated list', numbered: 'a numbered list', lines: 'one per line' };

const OFF_TOPIC = [
  'lol my cat just walked over the keyboard',
  "what's your name?",
  'are you a robot?',
  'brb',
  "it's raining here today",
  'do you like music?',
];

/** A simulated user's language: English for about three users in four, else one of seven others. */
export function drawLanguage(random: Random): SimLanguage {
  const draw = random.nextFloat();
  if (draw < 0.76) return 'en';
  const others: SimLanguage[] = ['es', 'fr', 'de', 'pt', 'it', 'ru', 'zh'];
  return others[Math.floor(((draw - 0.76) / 0.24) * others.length)] ?? 'es';
}

function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('nothing to pick from');
  return items[random.nextInt(items.length)] as T;
}

function phrasesOf(language: SimLanguage, key: keyof Phrases): string[] {
  return PHRASES[language][key] ?? PHRASES.en[key] ?? [];
}

function fill(template: string, task: Task, reason: FailureReason | undefined): string {
  const category = task.kind === 'list' ? LIST_CATEGORIES[task.category] : undefined;
  const unit = task.kind === 'unit_conversion' ? (UNITS[task.to]?.name ?? task.to) : '';
  const format = task.kind === 'list' ? LIST_FORMAT_WORDS[task.format] : '';
  const count = task.kind === 'list' ? String(task.count) : '';
  return (
    template
      .replaceAll('{given}', reason?.given ?? 'that')
      // A missing item is the one expected; any other reason names what the answer gave.
      .replaceAll(
        '{item}',
        (reason?.code === 'missing_item' ? reason.expected : reason?.given) ?? reason?.expected ?? 'one',
      )
      .replaceAll('{got}', reason?.given ?? 'something else')
      .replaceAll('{count}', count)
      .replaceAll('{unit}', unit)
      .replaceAll('{singular}', category?.singular ?? 'one')
      .replaceAll('{plural}', category?.plural ?? 'items')
      .replaceAll('{format}', format)
      .replaceAll('{what}', answerWord(task))
      .replaceAll('{expected}', expectedAnswer(valuesOf(task)))
  );
}

function answerWord(task: Task): string {
  if (task.kind === 'arithmetic' || task.kind === 'unit_conversion') return 'number';
  if (task.kind === 'string') return task.operation === 'count_letters' ? 'number' : 'word';
  if (task.kind === 'capital') return 'city';
  return 'list';
}

/** Typos, lower case and missing end punctuation in the user's own words (never in a request). */
export function addNoise(text: string, random: Random, typoRate: number): string {
  let noisy = text;
  if (random.nextFloat() < typoRate) {
    const words = noisy.split(' ');
    const candidates = words.map((word, index) => ({ word, index })).filter(({ word }) => /^\p{L}{4,}$/u.test(word));
    if (candidates.length > 0) {
      const { word, index } = pick(random, candidates);
      const at = 1 + random.nextInt(word.length - 2);
      const kind = random.nextInt(3);
      words[index] =
        kind === 0
          ? word.slice(0, at) + (word[at + 1] ?? '') + (word[at] ?? '') + word.slice(at + 2) // swap
          : kind === 1
            ? word.slice(0, at) + word.slice(at + 1) // drop
            : word.slice(0, at) + (word[at] ?? '') + word.slice(at); // double
      noisy = words.join(' ');
    }
  }
  if (random.nextFloat() < 0.15) noisy = noisy.toLowerCase();
  if (random.nextFloat() < 0.15) noisy = noisy.replace(/[.!]+$/u, '');
  return noisy;
}

/** A request in the user's words: noise in the lead-in only, the request as the task phrases it. */
function withRequest(leadIn: string, task: Task, random: Random, typoRate: number): string {
  const lead = leadIn === '' ? '' : addNoise(leadIn, random, typoRate);
  if (lead === '') return task.prompt;
  const separator = /[\s：:]$/u.test(lead) ? '' : ' ';
  return `${lead}${separator}${task.prompt}`;
}

function weighted<T>(random: Random, options: readonly (readonly [T, number])[]): T {
  const total = options.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = random.nextFloat() * total;
  for (const [value, weight] of options) {
    draw -= weight;
    if (draw < 0) return value;
  }
  return (options.at(-1) as readonly [T, number])[0];
}

/**
 * The user's next turn after `response` to `task`, checked as `check`: its text, its ground-truth
 * label, and what the user does next (see the module comment). Deterministic for a given random
 * state.
 */
export function react(
  task: Task,
  response: string,
  check: CheckResult,
  random: Random,
  context: Partial<ReactionContext> = {},
): UserTurn {
  const user = { ...DEFAULT_CONTEXT, ...context };
  if (check.success) return reactToSuccess(task, random, user);
  return reactToFailure(task, response, check, random, user);
}

function newTask(task: Task, random: Random, language: SimLanguage): Task {
  return drawTask(random, { split: task.split, language });
}

function reactToSuccess(task: Task, random: Random, user: ReactionContext): UserTurn {
  const sat = (categories: Category[]): TurnLabel => ({ polarity: 'sat', categories });
  const move = weighted(random, [
    ['sat_end', user.moreTasks ? 0.24 : 0.55],
    ['sat_next', user.moreTasks ? 0.26 : 0],
    ['next', user.moreTasks ? 0.24 : 0],
    ['off_topic', 0.08],
    ['leave', user.moreTasks ? 0.18 : 0.37],
  ] as const);
  if (move === 'leave') return { text: '', label: { polarity: 'neither', categories: [] }, move: 'leave' };
  if (move === 'off_topic') {
    return {
      text: pick(random, OFF_TOPIC),
      label: { polarity: 'neither', categories: [] },
      move: 'chat',
      continues: user.moreTasks,
    };
  }
  if (move === 'next') {
    const next = newTask(task, random, user.language);
    const lead = random.nextFloat() < 0.5 ? '' : pick(random, phrasesOf(user.language, 'next'));
    return {
      text: withRequest(lead, next, random, user.typoRate),
      label: { polarity: 'neither', categories: [] },
      move: 'new_task',
      task: next,
    };
  }
  const recovering = user.failures > 0 && random.nextFloat() < 0.6;
  const category: Category = recovering
    ? 'getting_there'
    : move === 'sat_end'
      ? weighted(random, [
          ['gratitude', 0.35],
          ['positive_closure', 0.25],
          ['praise', 0.2],
          ['acknowledgment', 0.2],
        ] as const)
      : weighted(random, [
          ['gratitude', 0.45],
          ['praise', 0.25],
          ['acknowledgment', 0.3],
        ] as const);
  const reaction = addNoise(pick(random, phrasesOf(user.language, category)), random, user.typoRate);
  const categories: Category[] = [category];
  if (category === 'getting_there' && /thank|gracias|merci|danke|obrigado|grazie|спасибо|谢谢/iu.test(reaction)) {
    categories.push('gratitude');
  }
  if (move === 'sat_end') return { text: reaction, label: sat(categories), move: 'chat', continues: false };
  const next = newTask(task, random, user.language);
  const lead = pick(random, phrasesOf(user.language, 'next'));
  return {
    text: `${reaction} ${withRequest(lead, next, random, 0)}`,
    label: sat(categories),
    move: 'new_task',
    task: next,
  };
}

function reactToFailure(
  task: Task,
  response: string,
  check: CheckResult,
  random: Random,
  user: ReactionContext,
): UserTurn {
  const dsat = (category: Category): TurnLabel => ({ polarity: 'dsat', categories: [category] });
  if (user.failures >= user.patience) {
    const move = weighted(random, [
      ['complain', 0.45],
      ['move_on', user.moreTasks ? 0.3 : 0],
      ['leave', 0.25],
    ] as const);
    if (move === 'leave') return { text: '', label: { polarity: 'neither', categories: [] }, move: 'leave' };
    if (move === 'complain') {
      const text = addNoise(pick(random, phrasesOf(user.language, 'negative_feedback')), random, user.typoRate);
      return { text, label: dsat('negative_feedback'), move: 'chat', continues: false };
    }
    const next = newTask(task, random, user.language);
    return {
      text: withRequest(pick(random, phrasesOf(user.language, 'no_engagement')), next, random, user.typoRate),
      label: dsat('no_engagement'),
      move: 'new_task',
      task: next,
    };
  }

  const first = check.reasons[0];
  // What the user quotes back: the answer the check read, else a short response as it stands.
  const quoted = first?.given ?? check.answer ?? (response.trim().length <= 24 ? response.trim() : undefined);
  const reason = first && quoted !== undefined ? { ...first, given: quoted } : first;
  const code = reason?.code ?? 'no_answer';
  const retry = (text: string, category: Category, asked: Task = task): UserTurn => ({
    text,
    label: dsat(category),
    move: 'retry',
    task: asked,
  });
  // What users do about each problem, and how often (Revision and a complaint fit any failure).
  const specific = SPECIFIC[code];
  const options: (readonly [string, number])[] = [
    ['rephrase', code === 'extra_text' || code === 'too_long' || code === 'wrong_format' ? 0.1 : 0.3],
    ['complain', 0.12],
  ];
  if (code === 'wrong_value' || code === 'wrong_order' || code === 'not_in_category')
    options.push(['generic_error', 0.4]);
  if (code === 'no_answer' || code === 'empty') options.push(['generic_ignored', 0.5]);
  if (code === 'extra_text' || code === 'too_long') options.push(['generic_style', 0.4]);
  if (specific) options.push(['specific', user.language === 'en' ? 0.6 : 0.2]);
  const choice = weighted(random, options);

  if (choice === 'rephrase') {
    const asked = rephraseTask(task, random);
    return retry(
      withRequest(pick(random, phrasesOf(user.language, 'rephrase')), asked, random, user.typoRate),
      'revision',
      asked,
    );
  }
  if (choice === 'complain') {
    const text = addNoise(pick(random, phrasesOf(user.language, 'negative_feedback')), random, user.typoRate);
    // A complaint alone does not repeat the request; the user expects another try all the same.
    return retry(text, 'negative_feedback');
  }
  if (choice === 'specific' && specific) {
    const option = pick(random, specific);
    const template = user.language === 'en' ? pick(random, option.phrases) : undefined;
    const text =
      template === undefined ? pick(random, phrasesOf(user.language, option.category)) : fill(template, task, reason);
    return retry(addNoise(text, random, user.typoRate), option.category);
  }
  const category: Category =
    choice === 'generic_error' ? 'factual_error' : choice === 'generic_ignored' ? 'ignored' : 'style';
  const text = fill(pick(random, phrasesOf(user.language, category)), task, reason);
  return retry(addNoise(text, random, user.typoRate), category);
}

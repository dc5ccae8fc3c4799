/**
 * The SAT/DSAT rubric: the categories a signal may name, with a definition each.
 *
 * Sources (docs/signals-rubric.md records what could and could not be checked):
 * - The category names follow the WildFeedback rubric (Shi et al., arXiv 2408.15549, the SAT and
 *   DSAT rubric table) as listed in ../shared/reference/drift-paper.md §4.1, where they are marked
 *   as an unverified recollection. The table itself was not reachable, so the definitions below are
 *   our paraphrases, written to be testable by the rules detector.
 * - WildFeedback built its rubric on SPUR (Lin et al., arXiv 2403.12388), which learns SAT and
 *   DSAT rubric items from labelled conversations by supervised prompting; SPUR's rubrics are
 *   learned per domain, ours are fixed.
 * - Verified: a user turn's annotation judges the assistant turn before it (WildFeedback App. A.1),
 *   and a turn may be SAT and DSAT at once (then it is `both`).
 */
import {
  CATEGORIES,
  DSAT_CATEGORIES,
  SAT_CATEGORIES,
  type Category,
  type CategoryInfo,
  type Polarity,
} from '../../api/index.js';

const WILDFEEDBACK = 'WildFeedback rubric (arXiv 2408.15549) via drift-paper.md §4.1; name unverified, definition ours';

/** Every category with its polarity, display label and definition, in rubric order. */
export const RUBRIC: readonly CategoryInfo[] = [
  // DSAT
  {
    id: 'negative_feedback',
    polarity: 'dsat',
    label: 'Negative Feedback',
    definition: 'The user states frustration, annoyance or disappointment with the answer, or calls it useless.',
    source: WILDFEEDBACK,
  },
  {
    id: 'revision',
    polarity: 'dsat',
    label: 'Revision',
    definition:
      'The user asks for the answer to be redone or revised, or repeats or rephrases the request (consecutive user turns that are similar).',
    source: WILDFEEDBACK,
  },
  {
    id: 'factual_error',
    polarity: 'dsat',
    label: 'Factual Error',
    definition:
      'The user points out a mistake, a false statement, a contradiction, or that the suggested code or steps do not work.',
    source: WILDFEEDBACK,
  },
  {
    id: 'unrealistic_expectation',
    polarity: 'dsat',
    label: 'Unrealistic Expectation',
    definition:
      'The user expects something the assistant cannot do (browse the web live, act in the world, remember other chats) and is let down.',
    source: WILDFEEDBACK,
  },
  {
    id: 'no_engagement',
    polarity: 'dsat',
    label: 'No Engagement',
    definition:
      'The user brushes off the assistant\'s questions or suggestions ("whatever", "forget it", "just do it") instead of engaging with them.',
    source: WILDFEEDBACK,
  },
  {
    id: 'ignored',
    polarity: 'dsat',
    label: 'Ignored',
    definition:
      'The user says the question, an instruction or a constraint was ignored, missed or forgotten ("I already said", "you did not answer").',
    source: WILDFEEDBACK,
  },
  {
    id: 'lower_quality',
    polarity: 'dsat',
    label: 'Lower Quality',
    definition: 'The user finds the answer worse than an earlier one in the conversation.',
    source: WILDFEEDBACK,
  },
  {
    id: 'insufficient_detail',
    polarity: 'dsat',
    label: 'Insufficient Detail',
    definition: 'The user wants more depth, specifics or examples than the answer gave.',
    source: WILDFEEDBACK,
  },
  {
    id: 'style',
    polarity: 'dsat',
    label: 'Style',
    definition: 'The user objects to the format, tone, length or language of the answer, or asks for another one.',
    source: WILDFEEDBACK,
  },
  // SAT
  {
    id: 'gratitude',
    polarity: 'sat',
    label: 'Gratitude',
    definition: 'The user thanks the assistant.',
    source: WILDFEEDBACK,
  },
  {
    id: 'learning',
    polarity: 'sat',
    label: 'Learning',
    definition: 'The user shows curiosity or says they learned something ("interesting", "I did not know that").',
    source: WILDFEEDBACK,
  },
  {
    id: 'compliance',
    polarity: 'sat',
    label: 'Compliance',
    definition: 'The user follows or reports having followed the suggestion, or says it worked.',
    source: WILDFEEDBACK,
  },
  {
    id: 'praise',
    polarity: 'sat',
    label: 'Praise',
    definition: 'The user praises the answer or the assistant with positive words or exclamations.',
    source: WILDFEEDBACK,
  },
  {
    id: 'personal_details',
    polarity: 'sat',
    label: 'Personal Details',
    definition: 'The user opens up with personal context (who they are, their situation) to go on with the task.',
    source: WILDFEEDBACK,
  },
  {
    id: 'humor',
    polarity: 'sat',
    label: 'Humor',
    definition: 'The user laughs, jokes or responds to humour.',
    source: WILDFEEDBACK,
  },
  {
    id: 'acknowledgment',
    polarity: 'sat',
    label: 'Acknowledgment',
    definition: 'The user confirms understanding or agrees ("ok", "got it", "makes sense").',
    source: WILDFEEDBACK,
  },
  {
    id: 'positive_closure',
    polarity: 'sat',
    label: 'Positive Closure',
    definition: 'The user ends the conversation on a positive note (the problem is solved, goodbye).',
    source: WILDFEEDBACK,
  },
  {
    id: 'getting_there',
    polarity: 'sat',
    label: 'Getting There',
    definition: 'The user acknowledges that the answers are improving or close to what they want.',
    source: WILDFEEDBACK,
  },
];

const BY_ID = new Map<Category, CategoryInfo>(RUBRIC.map((info) => [info.id, info]));
const DSAT_SET: ReadonlySet<string> = new Set(DSAT_CATEGORIES);
const SAT_SET: ReadonlySet<string> = new Set(SAT_CATEGORIES);

/** The rubric entry of one category. */
export function categoryInfo(category: Category): CategoryInfo {
  const info = BY_ID.get(category);
  if (!info) throw new Error(`No rubric entry for ${category}`);
  return info;
}

export function isDsatCategory(category: Category): boolean {
  return DSAT_SET.has(category);
}

export function isSatCategory(category: Category): boolean {
  return SAT_SET.has(category);
}

/** Bit of a category in a category mask (a 32-bit integer; 18 categories). */
export function categoryBit(category: Category): number {
  return 1 << CATEGORIES.indexOf(category);
}

/** Categories whose bits are set in `mask`, in rubric order. */
export function categoriesOfMask(mask: number): Category[] {
  return CATEGORIES.filter((_, index) => (mask & (1 << index)) !== 0);
}

/** The mask of a list of categories. */
export function maskOfCategories(categories: Iterable<Category>): number {
  let mask = 0;
  for (const category of categories) mask |= categoryBit(category);
  return mask;
}

/** The polarity implied by which sides are present. */
export function polarityOf(sat: boolean, dsat: boolean): Polarity {
  if (sat && dsat) return 'both';
  if (dsat) return 'dsat';
  if (sat) return 'sat';
  return 'neither';
}

export function hasDsat(polarity: Polarity): boolean {
  return polarity === 'dsat' || polarity === 'both';
}

export function hasSat(polarity: Polarity): boolean {
  return polarity === 'sat' || polarity === 'both';
}

const NAME_ALIASES: Record<string, Category> = {
  negative: 'negative_feedback',
  negativefeedback: 'negative_feedback',
  rephrase: 'revision',
  rephrasing: 'revision',
  repeat: 'revision',
  factualerror: 'factual_error',
  error: 'factual_error',
  unrealisticexpectation: 'unrealistic_expectation',
  unrealisticexpectations: 'unrealistic_expectation',
  noengagement: 'no_engagement',
  ignore: 'ignored',
  lowerquality: 'lower_quality',
  insufficientdetail: 'insufficient_detail',
  insufficientdetails: 'insufficient_detail',
  thanks: 'gratitude',
  personaldetails: 'personal_details',
  humour: 'humor',
  acknowledgement: 'acknowledgment',
  positiveclosure: 'positive_closure',
  gettingthere: 'getting_there',
};

/**
 * Maps a category name as a source writes it ("Negative Feedback", "negative_feedback",
 * "Acknowledgement") to a rubric id, or undefined when it names no rubric category.
 */
export function parseCategoryName(name: string): Category | undefined {
  const squashed = name.toLowerCase().replace(/[^a-z]/g, '');
  for (const category of CATEGORIES) if (category.replace(/_/g, '') === squashed) return category;
  return NAME_ALIASES[squashed];
}

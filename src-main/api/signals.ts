/**
 * Satisfaction signals, DSAT pairs and their curation as every host sees them (engine/signals,
 * engine/curation). Pure zod: no node:*, no electron, no DOM.
 *
 * Vocabulary:
 * - A signal judges one assistant turn (`judgedTurn`) by the user turn after it (`turn`), as in
 *   WildFeedback's annotations (arXiv 2408.15549, App. A.1): SAT, DSAT, both or neither, with
 *   rubric categories, a confidence and the evidence (spans of the user turn and the rule or
 *   feature that matched them).
 * - A DSAT pair is DRIFT's training unit (drift-paper.md §4.2): the context before the DSAT
 *   response, that response as `rejected`, the user's feedback turn, and for a seed pair the
 *   later response that drew SAT as `chosen`.
 * - Curation decisions are kept per pair in an append-only log; a pair set is a frozen, versioned
 *   selection of curated pairs that training runs reference as `name@vK`.
 */
import { z } from 'zod';
import { Conversation, Message } from './datasets.js';
import { Id } from './schemas.js';

/** DSAT rubric categories (ids); labels and definitions live in engine/signals/categories.ts. */
export const DSAT_CATEGORIES = [
  'negative_feedback',
  'revision',
  'factual_error',
  'unrealistic_expectation',
  'no_engagement',
  'ignored',
  'lower_quality',
  'insufficient_detail',
  'style',
] as const;

/** SAT rubric categories (ids). */
export const SAT_CATEGORIES = [
  'gratitude',
  'learning',
  'compliance',
  'praise',
  'personal_details',
  'humor',
  'acknowledgment',
  'positive_closure',
  'getting_there',
] as const;

export const CATEGORIES = [...DSAT_CATEGORIES, ...SAT_CATEGORIES] as const;
export const Category = z.enum(CATEGORIES);
export type Category = z.infer<typeof Category>;

export const Polarity = z.enum(['sat', 'dsat', 'both', 'neither']);
export type Polarity = z.infer<typeof Polarity>;

export const DETECTORS = ['rules', 'classifier', 'labels'] as const;
export const DetectorName = z.enum(DETECTORS);
export type DetectorName = z.infer<typeof DetectorName>;

/** Why a detector decided: a span of one message and the rule or feature behind it. */
export const Evidence = z.object({
  /** The message the span is in (usually the user turn; a label spans the whole turn). */
  turn: z.number().int().nonnegative(),
  /** UTF-16 offsets into that message's content. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  /** Rule id (rules detector, labels detector). */
  rule: z.string().optional(),
  /** Feature name (classifier), e.g. `u:wrong`. */
  feature: z.string().optional(),
  /** The category the span supports, if any. */
  category: Category.optional(),
  /** How much it contributed: a rule's weight or a feature's logit contribution. */
  weight: z.number().optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Signal = z.object({
  conversationId: z.string(),
  /** The user turn that carries the judgement; `messages.length` for a label on the last answer (KTO). */
  turn: z.number().int().nonnegative(),
  /** The assistant turn it judges (the one before `turn`). */
  judgedTurn: z.number().int().nonnegative(),
  polarity: Polarity,
  categories: z.array(Category),
  confidence: z.number().min(0).max(1),
  detector: DetectorName,
  evidence: z.array(Evidence),
  /** The classifier that produced it (detector `classifier`). */
  classifierId: z.string().optional(),
  /** This is the signal the pairs were built from for its turn (the first detector, in mining order, that judged it). */
  primary: z.boolean().optional(),
});
export type Signal = z.infer<typeof Signal>;

/** `dsat`: no chosen answer (DRIFT samples one); `seed`: a later answer in the log drew SAT. */
export const PairKind = z.enum(['dsat', 'seed']);
export type PairKind = z.infer<typeof PairKind>;

/**
 * Where the pair came from: `mined` from signals on a multi-turn conversation; `drift` a DRIFT
 * dsat_data row imported as is; `preference` a preference row (UltraFeedback, HH-RLHF, ...) through
 * the preference adapter; `kto` an unpaired answer labelled undesirable.
 */
export const PairSource = z.enum(['mined', 'drift', 'preference', 'kto']);
export type PairSource = z.infer<typeof PairSource>;

export const PairLengths = z.object({
  /** Characters of all context messages. */
  context: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  feedback: z.number().int().nonnegative(),
  chosen: z.number().int().nonnegative().optional(),
});
export type PairLengths = z.infer<typeof PairLengths>;

export const DsatPair = z.object({
  /** Stable across re-mining: a hash of the dataset, conversation and the turns it is made of. */
  id: z.string(),
  datasetId: z.string(),
  conversationId: z.string(),
  kind: PairKind,
  source: PairSource,
  /** Every message before the DSAT response (system messages included), in order. */
  context: z.array(Message),
  /** The DSAT response. */
  rejected: Message,
  /** The user's dissatisfied turn after it (DRIFT's `user_preference`). */
  feedback: Message,
  /** Seed pairs: the later response that drew SAT. */
  chosen: Message.optional(),
  /** Seed pairs: the user turn whose SAT made `chosen` the chosen answer. */
  satTurn: z.number().int().nonnegative().optional(),
  categories: z.array(Category),
  confidence: z.number().min(0).max(1),
  detector: DetectorName,
  language: z.string(),
  lengths: PairLengths,
  /** The feedback turn's evidence, for highlighting. */
  evidence: z.array(Evidence),
});
export type DsatPair = z.infer<typeof DsatPair>;

/** A context and the answer the user was satisfied with (SPIN's real answers). */
export const SatRecord = z.object({
  id: z.string(),
  datasetId: z.string(),
  conversationId: z.string(),
  context: z.array(Message),
  response: Message,
  /** The user turn that expressed SAT (absent for a KTO `label: true`). */
  feedback: Message.optional(),
  categories: z.array(Category),
  confidence: z.number().min(0).max(1),
  detector: DetectorName,
  language: z.string(),
});
export type SatRecord = z.infer<typeof SatRecord>;

/* ------------------------------------------------------------------ agreement */

/** One binary question (e.g. "is this turn DSAT?") of a detector against the labels. */
export const BinaryAgreement = z.object({
  /** Turns compared. */
  support: z.number().int().nonnegative(),
  truePositives: z.number().int().nonnegative(),
  falsePositives: z.number().int().nonnegative(),
  falseNegatives: z.number().int().nonnegative(),
  trueNegatives: z.number().int().nonnegative(),
  /** Null where the denominator is zero. */
  precision: z.number().nullable(),
  recall: z.number().nullable(),
  f1: z.number().nullable(),
  /** Cohen's kappa; null where chance agreement is 1. */
  kappa: z.number().nullable(),
});
export type BinaryAgreement = z.infer<typeof BinaryAgreement>;

/** A detector compared with imported labels, turn by turn. */
export const DetectorAgreement = z.object({
  detector: DetectorName,
  /** Labelled turns compared. */
  turns: z.number().int().nonnegative(),
  /** Turns whose labels name categories (the denominator of the per-category rows). */
  categorisedTurns: z.number().int().nonnegative(),
  polarity: z.object({ sat: BinaryAgreement, dsat: BinaryAgreement }),
  categories: z.record(z.string(), BinaryAgreement),
  /** Rows: label polarity; columns: detector polarity; both in `Polarity` order. */
  confusion: z.object({ labels: z.array(Polarity), matrix: z.array(z.array(z.number().int().nonnegative())) }),
  /** Cohen's kappa over the four polarities. */
  kappa: z.number().nullable(),
  accuracy: z.number().nullable(),
});
export type DetectorAgreement = z.infer<typeof DetectorAgreement>;

/* ------------------------------------------------------------------ mining */

export const PreferenceAdapterOptions = z
  .object({
    /** Turn preference rows (UltraFeedback, HH-RLHF, ShareGPT pairs) into DSAT pairs. */
    enabled: z.boolean().default(true),
    /** `lowest`: the lowest-rated completion (rated completions) else the pair's rejected answer. */
    rejected: z.enum(['lowest', 'pair']).default('lowest'),
    /** `highest`: the highest-rated completion (or the pair's chosen) becomes a seed pair's chosen. */
    chosen: z.enum(['highest', 'none']).default('highest'),
    /** `critique`: the rater's critique of the rejected answer when the source has one. */
    feedback: z.enum(['critique', 'generic']).default('critique'),
  })
  .strict();
export type PreferenceAdapterOptions = z.infer<typeof PreferenceAdapterOptions>;

/** Parameters of the `signals.mine` job. */
export const MineParams = z
  .object({
    datasetId: Id,
    /** Detectors to run; for pairs, a turn's signal comes from the first detector in this order that judged it. */
    detectors: z.array(DetectorName).min(1).default(['labels', 'rules']),
    classifierId: Id.optional(),
    /** Signals below this confidence are recorded but make no pair. */
    minConfidence: z.number().min(0).max(1).default(0.5),
    /** Similarity of consecutive user turns above which the later one is a rephrase (Revision). */
    rephraseThreshold: z.number().min(0).max(1).default(0.6),
    seedPairs: z.boolean().default(true),
    satRecords: z.boolean().default(true),
    preference: PreferenceAdapterOptions.default(() => PreferenceAdapterOptions.parse({})),
    /** The feedback turn written for pairs whose source has none (KTO labels, preference rows). */
    genericFeedback: z
      .string()
      .min(1)
      .max(2000)
      .default('That answer did not meet my needs. Please give a better response.'),
  })
  .strict();
export type MineParams = z.infer<typeof MineParams>;
export type MineParamsInput = z.input<typeof MineParams>;

export const MiningCounts = z.object({
  conversations: z.number().int().nonnegative(),
  /** User turns judged (those after an assistant turn) plus labelled final answers. */
  judgedTurns: z.number().int().nonnegative(),
  /** Turns whose chosen signal is DSAT or both. */
  dsat: z.number().int().nonnegative(),
  /** Turns whose chosen signal is SAT or both. */
  sat: z.number().int().nonnegative(),
  both: z.number().int().nonnegative(),
  /** Signals written to signals.jsonl (every detector, polarity other than neither). */
  signals: z.number().int().nonnegative(),
  pairs: z.number().int().nonnegative(),
  seedPairs: z.number().int().nonnegative(),
  satRecords: z.number().int().nonnegative(),
  /** Conversations with at least one DSAT turn. */
  conversationsWithDsat: z.number().int().nonnegative(),
  /** Lines of conversations.jsonl that could not be read. */
  unreadable: z.number().int().nonnegative(),
});
export type MiningCounts = z.infer<typeof MiningCounts>;

/** mining-report.json in the dataset folder; `signals:report` answers it. */
export const MiningReport = z.object({
  datasetId: z.string(),
  params: z.record(z.string(), z.unknown()),
  detectors: z.array(DetectorName),
  classifierId: z.string().nullable(),
  counts: MiningCounts,
  /** Chosen signals per category (a turn counts once per category it names). */
  byCategory: z.record(z.string(), z.number().int().nonnegative()),
  /** Per detector: turns it judged SAT, DSAT, both (before choosing among detectors). */
  byDetector: z.record(
    z.string(),
    z.object({
      sat: z.number().int().nonnegative(),
      dsat: z.number().int().nonnegative(),
      both: z.number().int().nonnegative(),
      judged: z.number().int().nonnegative(),
    }),
  ),
  /** Pairs per source and per language. */
  pairsBySource: z.record(z.string(), z.number().int().nonnegative()),
  pairsByLanguage: z.record(z.string(), z.number().int().nonnegative()),
  /** Turns with imported SAT/DSAT labels; the agreement rows compare every other detector with them. */
  labelledTurns: z.number().int().nonnegative(),
  agreement: z.array(DetectorAgreement),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type MiningReport = z.infer<typeof MiningReport>;

/** What a finished `signals.mine` job returns (the report without its long tables). */
export const MineResult = z.object({
  datasetId: z.string(),
  counts: MiningCounts,
  byCategory: z.record(z.string(), z.number().int().nonnegative()),
  labelledTurns: z.number().int().nonnegative(),
  reportPath: z.string(),
});
export type MineResult = z.infer<typeof MineResult>;

/** Parameters of the `signals.train` job: a classifier from imported labels or curation decisions. */
export const TrainClassifierParams = z
  .object({
    /** The classifier's id (folder name under `<workspace>/classifiers/`). */
    id: Id.optional(),
    datasetIds: z.array(Id).min(1).max(50),
    /** `labels`: per-turn SAT/DSAT labels and KTO labels; `decisions`: accepted and rejected pairs. */
    source: z.enum(['labels', 'decisions']).default('labels'),
    epochs: z.number().int().min(1).max(200).default(20),
    learningRate: z.number().positive().max(10).default(0.1),
    l2: z.number().min(0).max(1).default(0.0001),
    batchSize: z.number().int().min(1).max(4096).default(64),
    /** Fraction of conversations held out for the reported accuracy. */
    holdout: z.number().min(0).max(0.9).default(0.2),
    seed: z.number().int().default(42),
    /** log2 of the number of hashed feature buckets. */
    bucketsLog2: z.number().int().min(8).max(20).default(16),
  })
  .strict();
export type TrainClassifierParams = z.infer<typeof TrainClassifierParams>;

export const HeldOutMetrics = z.object({
  examples: z.number().int().nonnegative(),
  /** Accuracy of the SAT and DSAT heads on held-out turns, and of always answering the majority class. */
  satAccuracy: z.number().nullable(),
  dsatAccuracy: z.number().nullable(),
  satMajority: z.number().nullable(),
  dsatMajority: z.number().nullable(),
});
export type HeldOutMetrics = z.infer<typeof HeldOutMetrics>;

/** A trained classifier (`<workspace>/classifiers/<id>/config.json`, without the weights). */
export const ClassifierInfo = z.object({
  id: z.string(),
  createdAt: z.string(),
  source: z.enum(['labels', 'decisions']),
  datasetIds: z.array(z.string()),
  examples: z.number().int().nonnegative(),
  trainExamples: z.number().int().nonnegative(),
  heldOut: HeldOutMetrics,
  /** Whether the category heads saw any category label. */
  categoriesTrained: z.boolean(),
  /** Whether it saw labelled final answers (KTO) and so also judges a conversation's last answer. */
  judgesFinalAnswers: z.boolean(),
  buckets: z.number().int().positive(),
  epochs: z.number().int().positive(),
  seed: z.number().int(),
  finalLoss: z.number(),
});
export type ClassifierInfo = z.infer<typeof ClassifierInfo>;

/* ------------------------------------------------------------------ rubric */

export const CategoryInfo = z.object({
  id: Category,
  polarity: z.enum(['sat', 'dsat']),
  label: z.string(),
  definition: z.string(),
  /** Where the name and definition come from, and how sure we are. */
  source: z.string(),
});
export type CategoryInfo = z.infer<typeof CategoryInfo>;

/** One transparent rule of the rules detector, as the UI lists it. */
export const RuleInfo = z.object({
  id: z.string(),
  category: Category,
  /** ISO 639-1, or `*` for rules that hold in every language. */
  language: z.string(),
  description: z.string(),
  weight: z.number(),
});
export type RuleInfo = z.infer<typeof RuleInfo>;

/* ------------------------------------------------------------------ curation */

export const DecisionStatus = z.enum(['pending', 'accepted', 'rejected']);
export type DecisionStatus = z.infer<typeof DecisionStatus>;

/** Texts the curator rewrote; export and freezing use them instead of the originals. */
export const PairEdit = z
  .object({
    chosen: z.string().max(200_000).optional(),
    rejected: z.string().max(200_000).optional(),
    feedback: z.string().max(200_000).optional(),
  })
  .strict();
export type PairEdit = z.infer<typeof PairEdit>;

export const Tag = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\s,]+$/, 'tags have no spaces or commas');

/** The current decision on one pair (the fold of its events). */
export const PairDecision = z.object({
  status: DecisionStatus,
  edit: PairEdit.optional(),
  tags: z.array(z.string()),
  note: z.string(),
  /** When it last changed; null for a pair nobody touched. */
  at: z.string().nullable(),
});
export type PairDecision = z.infer<typeof PairDecision>;

/** Selects pairs; every field narrows (AND), values inside one field widen (OR). */
export const PairFilter = z
  .object({
    /** Full-text: every word must occur in the pair's feedback, rejected answer or last user request. */
    query: z.string().max(500).optional(),
    categories: z.array(Category).max(32).optional(),
    detectors: z.array(DetectorName).max(3).optional(),
    statuses: z.array(DecisionStatus).max(3).optional(),
    languages: z.array(z.string().max(16)).max(200).optional(),
    kinds: z.array(PairKind).max(2).optional(),
    sources: z.array(PairSource).max(4).optional(),
    /** Pairs carrying any of these tags. */
    tags: z.array(Tag).max(100).optional(),
    confidenceMin: z.number().min(0).max(1).optional(),
    confidenceMax: z.number().min(0).max(1).optional(),
    /** Bounds on the rejected answer's length in characters. */
    lengthMin: z.number().int().nonnegative().optional(),
    lengthMax: z.number().int().nonnegative().optional(),
    conversationId: z.string().max(256).optional(),
    edited: z.boolean().optional(),
  })
  .strict();
export type PairFilter = z.infer<typeof PairFilter>;

export const PairSort = z
  .object({
    by: z.enum(['order', 'confidence', 'length', 'updated']).default('order'),
    direction: z.enum(['asc', 'desc']).default('asc'),
  })
  .strict();
export type PairSort = z.infer<typeof PairSort>;

/** A row of the pairs list: what the list shows without loading the whole pair. */
export const PairSummary = z.object({
  id: z.string(),
  /** Position in pairs.jsonl (mining order). */
  index: z.number().int().nonnegative(),
  conversationId: z.string(),
  kind: PairKind,
  source: PairSource,
  categories: z.array(Category),
  confidence: z.number(),
  detector: DetectorName,
  language: z.string(),
  lengths: PairLengths,
  /** First characters of the feedback turn and of the rejected answer (edits applied). */
  feedbackPreview: z.string(),
  rejectedPreview: z.string(),
  decision: PairDecision,
});
export type PairSummary = z.infer<typeof PairSummary>;

/** Counts per facet value; each facet is counted with every other facet's filter applied. */
export const PairFacets = z.object({
  categories: z.record(z.string(), z.number().int().nonnegative()),
  detectors: z.record(z.string(), z.number().int().nonnegative()),
  statuses: z.record(z.string(), z.number().int().nonnegative()),
  languages: z.record(z.string(), z.number().int().nonnegative()),
  kinds: z.record(z.string(), z.number().int().nonnegative()),
  sources: z.record(z.string(), z.number().int().nonnegative()),
  tags: z.record(z.string(), z.number().int().nonnegative()),
  /** Ten confidence bins [0, 0.1), ..., [0.9, 1]. */
  confidence: z.array(z.number().int().nonnegative()),
  /** Rejected-answer length bins, with their lower bounds in `lengthBounds`. */
  length: z.array(z.number().int().nonnegative()),
  lengthBounds: z.array(z.number().int().nonnegative()),
});
export type PairFacets = z.infer<typeof PairFacets>;

export const PairListResult = z.object({
  /** Pairs matching the filter. */
  total: z.number().int().nonnegative(),
  /** Pairs in the dataset. */
  all: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  items: z.array(PairSummary),
  facets: PairFacets,
  /** For the charts, over the filtered set: pairs per category, the confidence histogram, per status. */
  stats: z.object({
    byCategory: z.record(z.string(), z.number().int().nonnegative()),
    confidence: z.array(z.number().int().nonnegative()),
    byStatus: z.record(z.string(), z.number().int().nonnegative()),
  }),
  /** The latest decision batch that `pair:undo` would revert, if any. */
  undoable: z.boolean(),
});
export type PairListResult = z.infer<typeof PairListResult>;

/** Selects conversations of a dataset. */
export const ConversationFilter = z
  .object({
    query: z.string().max(500).optional(),
    languages: z.array(z.string().max(16)).max(200).optional(),
    hasDsat: z.boolean().optional(),
    hasSat: z.boolean().optional(),
    categories: z.array(Category).max(32).optional(),
    /** Source files (as in `source.file`). */
    sources: z.array(z.string().max(1000)).max(200).optional(),
    formats: z.array(z.string().max(64)).max(100).optional(),
  })
  .strict();
export type ConversationFilter = z.infer<typeof ConversationFilter>;

export const ConversationSummary = z.object({
  id: z.string(),
  index: z.number().int().nonnegative(),
  language: z.string(),
  format: z.string(),
  source: z.string(),
  messages: z.number().int().nonnegative(),
  userTurns: z.number().int().nonnegative(),
  hasDsat: z.boolean(),
  hasSat: z.boolean(),
  categories: z.array(Category),
  pairs: z.number().int().nonnegative(),
  /** First characters of the first user message. */
  preview: z.string(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const ConversationListResult = z.object({
  total: z.number().int().nonnegative(),
  all: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  items: z.array(ConversationSummary),
  facets: z.object({
    languages: z.record(z.string(), z.number().int().nonnegative()),
    hasDsat: z.record(z.string(), z.number().int().nonnegative()),
    hasSat: z.record(z.string(), z.number().int().nonnegative()),
    categories: z.record(z.string(), z.number().int().nonnegative()),
    sources: z.record(z.string(), z.number().int().nonnegative()),
    formats: z.record(z.string(), z.number().int().nonnegative()),
  }),
  /** Whether signals.jsonl exists (the dataset was mined). */
  mined: z.boolean(),
});
export type ConversationListResult = z.infer<typeof ConversationListResult>;

export const ConversationDetail = z.object({
  conversation: Conversation,
  /** Every detector's non-neutral signals on this conversation, in turn order. */
  signals: z.array(Signal),
  pairs: z.array(PairSummary),
});
export type ConversationDetail = z.infer<typeof ConversationDetail>;

/** A pair as frozen into a pair set or exported: edits applied, decision attached. */
export const CuratedPair = DsatPair.extend({
  status: DecisionStatus,
  tags: z.array(z.string()),
  note: z.string(),
  /** Whether a curator rewrote chosen, rejected or feedback. */
  edited: z.boolean(),
});
export type CuratedPair = z.infer<typeof CuratedPair>;

/** `<workspace>/pairsets/<name>/v<k>/manifest.json`. */
export const PairSetManifest = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int().positive(),
  datasetId: z.string(),
  filter: PairFilter,
  createdAt: z.string(),
  /** sha256 of pairs.jsonl. */
  checksum: z.string(),
  counts: z.object({
    pairs: z.number().int().nonnegative(),
    seedPairs: z.number().int().nonnegative(),
    byCategory: z.record(z.string(), z.number().int().nonnegative()),
    byStatus: z.record(z.string(), z.number().int().nonnegative()),
  }),
  /** The pair ids in file order. */
  pairIds: z.array(z.string()),
});
export type PairSetManifest = z.infer<typeof PairSetManifest>;

export const ExportFormat = z.enum(['drift', 'trl']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportResult = z.object({
  format: ExportFormat,
  outDir: z.string(),
  files: z.array(z.object({ path: z.string(), rows: z.number().int().nonnegative() })),
});
export type ExportResult = z.infer<typeof ExportResult>;

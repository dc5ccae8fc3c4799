/**
 * The New run form's fields: every RunConfig setting with its default, where the default comes
 * from, and which methods use it. The defaults mirror the zod defaults of src-main/api/runs.ts
 * (the renderer may import only types from there); test/renderer/runs-config.test.ts parses an
 * empty config with that schema and fails if this table drifts from it.
 */
import type {
  PreferenceMethod,
  RunConfig,
  RunConfigInput,
  RunGeneration,
  PreferenceHyperparameters,
} from '../../../src-main/api/runs.js';

/**
 * Where a default comes from: `paper` is sourced (drift-paper.md §3 and the released configs);
 * `small-model` replaces the paper's 7B value with one suited to the workbench's small models;
 * `library` is TRL's own default (or the workbench's, for its own settings); `inferred` is not
 * stated by the paper.
 */
export type DefaultSource = 'paper' | 'small-model' | 'library' | 'inferred';

export const SOURCE_LABELS: Record<DefaultSource, string> = {
  paper: 'paper',
  'small-model': 'small-model choice',
  library: 'TRL / workbench default',
  inferred: 'inferred',
};

export const METHODS: readonly { id: PreferenceMethod; label: string; explanation: string }[] = [
  {
    id: 'drift',
    label: 'DRIFT',
    explanation:
      'Chosen: a response sampled from the current policy (guided by the user’s feedback); rejected: the logged dissatisfying response.',
  },
  {
    id: 'iterdpo',
    label: 'Iterative DPO',
    explanation: 'Several policy samples per prompt, ranked by a judge: the best is chosen, the worst rejected.',
  },
  {
    id: 'spin',
    label: 'SPIN',
    explanation: 'Chosen: the logged satisfying answer; rejected: an unguided sample of the current policy.',
  },
  {
    id: 'dpo',
    label: 'DPO (offline)',
    explanation: 'Plain DPO on the pair set’s seed pairs (DSAT response rejected, later SAT answer chosen).',
  },
];

export type FieldValue = number | boolean | string;
export type FieldGroup = 'run' | 'hyperparameters' | 'generation';

export interface RunField {
  /** Dotted path in RunConfig, e.g. `hyperparameters.beta`. */
  path: string;
  group: FieldGroup;
  label: string;
  kind: 'number' | 'integer' | 'boolean' | 'choice';
  options?: readonly string[];
  min?: number;
  max?: number;
  default: FieldValue;
  source: DefaultSource;
  /** Why this default, or the paper's value where it differs. */
  note?: string;
  /** The methods that read it (all when absent). */
  methods?: readonly PreferenceMethod[];
}

const SAMPLING: readonly PreferenceMethod[] = ['drift', 'iterdpo', 'spin'];

type HyperparameterPath = `hyperparameters.${keyof PreferenceHyperparameters}`;
type GenerationPath = `generation.${keyof RunGeneration}`;
type RunPath = Exclude<
  keyof RunConfig,
  'name' | 'method' | 'baseModelId' | 'pairSet' | 'judge' | 'hyperparameters' | 'generation'
>;
type FieldPath = HyperparameterPath | GenerationPath | RunPath | 'judge.kind';

function field(path: FieldPath, group: FieldGroup, rest: Omit<RunField, 'path' | 'group'>): RunField {
  return { path, group, ...rest };
}

/** Every RunConfig setting except the name, method, base model, pair set and the judge's model. */
export const RUN_FIELDS: readonly RunField[] = [
  field('iterations', 'run', {
    label: 'Iterations',
    kind: 'integer',
    min: 0,
    max: 20,
    default: 2,
    source: 'paper',
    note: 'K = 2 in the main results.',
  }),
  field('seedWarmStart', 'run', {
    label: 'Seed warm start',
    kind: 'boolean',
    default: true,
    source: 'inferred',
    note: 'DPO on the seed pairs first (paper for DRIFT, inferred for the baselines).',
  }),
  field('testSize', 'run', {
    label: 'Held-out pairs',
    kind: 'integer',
    min: 0,
    max: 100000,
    default: 100,
    source: 'paper',
    note: 'The first 100 pairs of each iteration are held out.',
  }),
  field('testFraction', 'run', {
    label: 'Held-out fraction cap',
    kind: 'number',
    min: 0,
    max: 0.9,
    default: 0.2,
    source: 'small-model',
    note: 'Caps the held-out pairs for small pair sets.',
  }),
  field('maxRecords', 'run', {
    label: 'Records used',
    kind: 'integer',
    min: 0,
    max: 10000000,
    default: 0,
    source: 'library',
    note: 'Only the first N records of the pair set (0: all); the paper’s Controlled setting used a subset.',
  }),
  field('candidates', 'run', {
    label: 'Candidates per prompt',
    kind: 'integer',
    min: 2,
    max: 16,
    default: 2,
    source: 'inferred',
    methods: ['iterdpo'],
  }),
  field('judge.kind', 'run', {
    label: 'Judge',
    kind: 'choice',
    options: ['likelihood', 'reward-model'],
    default: 'likelihood',
    source: 'inferred',
    note: 'Unspecified in the paper: the policy’s length-normalised likelihood, or a reward model.',
    methods: ['iterdpo'],
  }),
  field('seed', 'run', {
    label: 'Seed',
    kind: 'integer',
    min: 0,
    max: 2 ** 31 - 1,
    default: 42,
    source: 'paper',
  }),
  field('checkpointEvery', 'run', {
    label: 'Checkpoint every (steps)',
    kind: 'integer',
    min: 1,
    default: 50,
    source: 'library',
    note: 'The end of each phase always gets a checkpoint.',
  }),

  field('hyperparameters.loss', 'hyperparameters', {
    label: 'Loss',
    kind: 'choice',
    options: ['sigmoid', 'ipo', 'kto'],
    default: 'sigmoid',
    source: 'paper',
    note: 'sigmoid is DPO.',
  }),
  field('hyperparameters.beta', 'hyperparameters', {
    label: 'β',
    kind: 'number',
    min: 0,
    max: 100,
    default: 0.1,
    source: 'paper',
  }),
  field('hyperparameters.rpoAlpha', 'hyperparameters', {
    label: 'RPO α (NLL weight)',
    kind: 'number',
    min: 0,
    max: 100,
    default: 0.001,
    source: 'paper',
  }),
  field('hyperparameters.ktoDesirableWeight', 'hyperparameters', {
    label: 'KTO desirable weight',
    kind: 'number',
    min: 0,
    default: 1,
    source: 'library',
  }),
  field('hyperparameters.ktoUndesirableWeight', 'hyperparameters', {
    label: 'KTO undesirable weight',
    kind: 'number',
    min: 0,
    default: 1,
    source: 'library',
  }),
  field('hyperparameters.optimizer', 'hyperparameters', {
    label: 'Optimizer',
    kind: 'choice',
    options: ['rmsprop', 'adamw'],
    default: 'rmsprop',
    source: 'paper',
  }),
  field('hyperparameters.learningRate', 'hyperparameters', {
    label: 'Learning rate',
    kind: 'number',
    min: 0,
    max: 1,
    default: 5e-5,
    source: 'small-model',
    note: 'The paper’s 5e-7 is for 7B models.',
  }),
  field('hyperparameters.schedule', 'hyperparameters', {
    label: 'Schedule',
    kind: 'choice',
    options: ['linear', 'cosine', 'constant'],
    default: 'linear',
    source: 'paper',
  }),
  field('hyperparameters.warmupRatio', 'hyperparameters', {
    label: 'Warmup ratio',
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.1,
    source: 'paper',
  }),
  field('hyperparameters.weightDecay', 'hyperparameters', {
    label: 'Weight decay',
    kind: 'number',
    min: 0,
    max: 1,
    default: 0,
    source: 'library',
  }),
  field('hyperparameters.batchSize', 'hyperparameters', {
    label: 'Batch size',
    kind: 'integer',
    min: 1,
    max: 512,
    default: 4,
    source: 'paper',
  }),
  field('hyperparameters.gradientAccumulation', 'hyperparameters', {
    label: 'Gradient accumulation',
    kind: 'integer',
    min: 1,
    max: 512,
    default: 1,
    source: 'paper',
  }),
  field('hyperparameters.maxGradNorm', 'hyperparameters', {
    label: 'Max gradient norm',
    kind: 'number',
    min: 0,
    default: 1,
    source: 'library',
  }),
  field('hyperparameters.maxLength', 'hyperparameters', {
    label: 'Max length (tokens)',
    kind: 'integer',
    min: 1,
    max: 32768,
    default: 512,
    source: 'small-model',
    note: 'The paper’s 2048 is for 7B models.',
  }),
  field('hyperparameters.maxPromptLength', 'hyperparameters', {
    label: 'Max prompt length (tokens)',
    kind: 'integer',
    min: 1,
    max: 32768,
    default: 384,
    source: 'small-model',
    note: 'The paper’s 1024 is for 7B models.',
  }),
  field('hyperparameters.seedEpochs', 'hyperparameters', {
    label: 'Seed epochs',
    kind: 'integer',
    min: 0,
    max: 100,
    default: 3,
    source: 'paper',
  }),
  field('hyperparameters.iterationEpochs', 'hyperparameters', {
    label: 'Epochs per iteration',
    kind: 'integer',
    min: 1,
    max: 100,
    default: 1,
    source: 'paper',
  }),

  field('generation.guided', 'generation', {
    label: 'Guided sampling',
    kind: 'boolean',
    default: true,
    source: 'paper',
    note: 'Off: the plain context (the paper’s Unguided ablation).',
    methods: ['drift'],
  }),
  field('generation.guidedFormat', 'generation', {
    label: 'Guided prompt layout',
    kind: 'choice',
    options: ['plain', 'chat'],
    default: 'plain',
    source: 'paper',
    note: 'plain: gen-drift.py’s User:/Assistant: text; chat: the same turns in the model’s chat template.',
    methods: ['drift', 'iterdpo'],
  }),
  field('generation.temperature', 'generation', {
    label: 'Temperature',
    kind: 'number',
    min: 0,
    max: 5,
    default: 0.7,
    source: 'paper',
    methods: SAMPLING,
  }),
  field('generation.topP', 'generation', {
    label: 'Top-p',
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.9,
    source: 'paper',
    methods: SAMPLING,
  }),
  field('generation.topK', 'generation', {
    label: 'Top-k (0 = off)',
    kind: 'integer',
    min: 0,
    default: 0,
    source: 'library',
    methods: SAMPLING,
  }),
  field('generation.maxNewTokens', 'generation', {
    label: 'Max new tokens',
    kind: 'integer',
    min: 1,
    max: 4096,
    default: 64,
    source: 'small-model',
    note: 'The paper’s 512 is for 7B models.',
    methods: SAMPLING,
  }),
  field('generation.samples', 'generation', {
    label: 'Samples per prompt',
    kind: 'integer',
    min: 1,
    max: 16,
    default: 1,
    source: 'paper',
    methods: SAMPLING,
  }),
  field('generation.selection', 'generation', {
    label: 'Sample selection',
    kind: 'choice',
    options: ['none', 'judge-best', 'longest', 'shortest'],
    default: 'none',
    source: 'inferred',
    note: 'How one of several samples is picked.',
    methods: SAMPLING,
  }),
  field('generation.batchSize', 'generation', {
    label: 'Generation batch',
    kind: 'integer',
    min: 1,
    max: 256,
    default: 16,
    source: 'paper',
    methods: SAMPLING,
  }),
];

export const FIELD_GROUPS: readonly { id: FieldGroup; title: string }[] = [
  { id: 'run', title: 'Run' },
  { id: 'hyperparameters', title: 'Hyperparameters' },
  { id: 'generation', title: 'Generation' },
];

const FIELDS_BY_PATH = new Map(RUN_FIELDS.map((one) => [one.path, one]));

export function fieldByPath(path: string): RunField | undefined {
  return FIELDS_BY_PATH.get(path);
}

/** Whether the chosen method (and loss) reads the field; the form disables the others. */
export function fieldApplies(
  one: RunField,
  method: PreferenceMethod,
  values: Readonly<Record<string, FieldValue>>,
): boolean {
  if (one.methods && !one.methods.includes(method)) return false;
  if (one.path.startsWith('hyperparameters.kto')) return values['hyperparameters.loss'] === 'kto';
  return true;
}

export function defaultValues(): Record<string, FieldValue> {
  return Object.fromEntries(RUN_FIELDS.map((one) => [one.path, one.default]));
}

/** A field's value as the form holds it, or why it cannot be used. */
export function fieldProblem(one: RunField, value: FieldValue | null | undefined): string | null {
  if (one.kind === 'boolean' || one.kind === 'choice') return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${one.label} needs a number.`;
  if (one.kind === 'integer' && !Number.isInteger(value)) return `${one.label} must be a whole number.`;
  if (one.min !== undefined && value < one.min) return `${one.label} must be at least ${one.min}.`;
  if (one.max !== undefined && value > one.max) return `${one.label} must be at most ${one.max}.`;
  return null;
}

export interface RunFormInput {
  name: string;
  method: PreferenceMethod;
  baseModelId: string;
  pairSet: string;
  /** The reward model when the judge is `reward-model`. */
  judgeModelId: string;
  values: Readonly<Record<string, FieldValue | null>>;
}

/** The form as a RunConfig (every setting explicit, so run.json records what was chosen). */
export function buildRunConfig(input: RunFormInput): RunConfigInput {
  const nested: Record<string, Record<string, FieldValue>> = { hyperparameters: {}, generation: {} };
  const top: Record<string, FieldValue> = {};
  for (const one of RUN_FIELDS) {
    const value = input.values[one.path] ?? one.default;
    const [head, tail] = one.path.split('.') as [string, string | undefined];
    if (tail === undefined) top[head] = value;
    else if (head !== 'judge') nested[head]![tail] = value;
  }
  const judge =
    input.values['judge.kind'] === 'reward-model'
      ? { kind: 'reward-model' as const, modelId: input.judgeModelId }
      : { kind: 'likelihood' as const };
  return {
    ...top,
    name: input.name.trim(),
    method: input.method,
    baseModelId: input.baseModelId,
    pairSet: input.pairSet,
    judge,
    hyperparameters: nested.hyperparameters,
    generation: nested.generation,
  } as RunConfigInput;
}

export interface ConfigEntry {
  key: string;
  value: string;
  source: DefaultSource | null;
  /** Differs from the form's default. */
  changed: boolean;
}

function display(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** A stored config (run.json) as key/value rows, nested objects as dotted keys. */
export function configEntries(config: unknown, prefix = ''): ConfigEntry[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    const one = fieldByPath(prefix);
    return [
      {
        key: prefix,
        value: display(config),
        source: one?.source ?? null,
        changed: one !== undefined && one.default !== config,
      },
    ];
  }
  return Object.entries(config).flatMap(([key, value]) => configEntries(value, prefix ? `${prefix}.${key}` : key));
}

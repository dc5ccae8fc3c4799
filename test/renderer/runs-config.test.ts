import { describe, expect, it } from 'vitest';
import { RunConfig } from '../../src-main/api/runs.js';
import {
  RUN_FIELDS,
  buildRunConfig,
  configEntries,
  defaultValues,
  fieldApplies,
  fieldByPath,
  fieldProblem,
  type RunFormInput,
} from '../../src-renderer/src/lib/runs-config.js';

const IDENTITY = { name: 'r', method: 'drift', baseModelId: 'tiny', pairSet: 'set@v1' } as const;
const IDENTITY_KEYS = new Set(Object.keys(IDENTITY));

/** Dotted paths of every leaf of a parsed config. */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      for (const [path, leaf] of leaves(child, prefix ? `${prefix}.${key}` : key)) found.set(path, leaf);
    }
  } else {
    found.set(prefix, value);
  }
  return found;
}

function form(overrides: Partial<RunFormInput> = {}): RunFormInput {
  return { ...IDENTITY, judgeModelId: '', values: defaultValues(), ...overrides };
}

describe('the New run form’s defaults', () => {
  const parsed = leaves(RunConfig.parse(IDENTITY));

  it('equal the defaults of the RunConfig schema, field by field', () => {
    for (const field of RUN_FIELDS) {
      expect.soft(parsed.get(field.path), field.path).toBe(field.default);
    }
  });

  it('cover every setting of RunConfig', () => {
    const settings = [...parsed.keys()].filter((path) => !IDENTITY_KEYS.has(path)).sort();
    expect(RUN_FIELDS.map((field) => field.path).sort()).toEqual(settings);
  });

  it('build the same config the schema fills in, every setting explicit', () => {
    const built = buildRunConfig(form());
    expect(RunConfig.parse(built)).toEqual(RunConfig.parse(IDENTITY));
    expect(built.hyperparameters?.beta).toBe(0.1);
    expect(built.generation?.maxNewTokens).toBe(64);
  });

  it('build a changed setting and a reward-model judge', () => {
    const built = buildRunConfig(
      form({
        method: 'iterdpo',
        judgeModelId: 'judge',
        values: { ...defaultValues(), 'judge.kind': 'reward-model', 'generation.maxNewTokens': 8, iterations: 1 },
      }),
    );
    const config = RunConfig.parse(built);
    expect(config.judge).toEqual({ kind: 'reward-model', modelId: 'judge' });
    expect(config.generation.maxNewTokens).toBe(8);
    expect(config.iterations).toBe(1);
    expect(config.method).toBe('iterdpo');
  });

  it('mark the learning rate and lengths as small-model choices and β as the paper’s', () => {
    expect(fieldByPath('hyperparameters.learningRate')?.source).toBe('small-model');
    expect(fieldByPath('hyperparameters.maxLength')?.source).toBe('small-model');
    expect(fieldByPath('generation.maxNewTokens')?.source).toBe('small-model');
    expect(fieldByPath('hyperparameters.beta')?.source).toBe('paper');
    expect(fieldByPath('iterations')?.source).toBe('paper');
  });
});

describe('form fields', () => {
  const values = defaultValues();

  it('apply only to the methods and loss that read them', () => {
    const candidates = fieldByPath('candidates')!;
    expect(fieldApplies(candidates, 'iterdpo', values)).toBe(true);
    expect(fieldApplies(candidates, 'drift', values)).toBe(false);
    const guided = fieldByPath('generation.guided')!;
    expect(fieldApplies(guided, 'drift', values)).toBe(true);
    expect(fieldApplies(guided, 'spin', values)).toBe(false);
    expect(fieldApplies(fieldByPath('generation.temperature')!, 'dpo', values)).toBe(false);
    const kto = fieldByPath('hyperparameters.ktoDesirableWeight')!;
    expect(fieldApplies(kto, 'drift', values)).toBe(false);
    expect(fieldApplies(kto, 'drift', { ...values, 'hyperparameters.loss': 'kto' })).toBe(true);
  });

  it('say what is wrong with a value', () => {
    const iterations = fieldByPath('iterations')!;
    expect(fieldProblem(iterations, 2)).toBeNull();
    expect(fieldProblem(iterations, null)).toMatch(/needs a number/);
    expect(fieldProblem(iterations, 1.5)).toMatch(/whole number/);
    expect(fieldProblem(iterations, 21)).toMatch(/at most 20/);
    expect(fieldProblem(fieldByPath('hyperparameters.beta')!, -1)).toMatch(/at least 0/);
    expect(fieldProblem(fieldByPath('generation.guided')!, false)).toBeNull();
  });
});

describe('configEntries', () => {
  it('flattens a stored config to dotted keys with sources and changes marked', () => {
    const config = RunConfig.parse({ ...IDENTITY, hyperparameters: { beta: 0.5 } });
    const entries = configEntries(config);
    const byKey = new Map(entries.map((entry) => [entry.key, entry]));
    expect(byKey.get('name')).toEqual({ key: 'name', value: 'r', source: null, changed: false });
    expect(byKey.get('hyperparameters.beta')).toMatchObject({ value: '0.5', source: 'paper', changed: true });
    expect(byKey.get('hyperparameters.learningRate')).toMatchObject({ source: 'small-model', changed: false });
    expect(byKey.get('judge.kind')).toMatchObject({ value: 'likelihood', changed: false });
    expect(byKey.get('generation.guided')).toMatchObject({ value: 'true' });
    expect(entries).toHaveLength(leaves(config).size);
  });
});

/** Pair building: DSAT pairs, seed pairs, SAT records, DRIFT rows, KTO labels and the preference adapter. */
import { describe, expect, it } from 'vitest';
import { MineParams, type Conversation, type Signal } from '../../../src-main/api/index.js';
import { LabelsDetector } from '../../../src-main/engine/signals/labels.js';
import { buildPairs, chooseSignals, pairId, type PairOptions } from '../../../src-main/engine/signals/pairs.js';
import { RulesDetector } from '../../../src-main/engine/signals/rules/detector.js';
import { conversation } from './helpers.js';

const defaults = MineParams.parse({ datasetId: 'ds' });
const OPTIONS: PairOptions = {
  datasetId: 'ds',
  minConfidence: 0.5,
  seedPairs: true,
  satRecords: true,
  labels: true,
  preference: defaults.preference,
  genericFeedback: defaults.genericFeedback,
};

function mine(item: Conversation, options: PairOptions = OPTIONS) {
  const chosen = chooseSignals([new LabelsDetector().detect(item), new RulesDetector().detect(item)]);
  return buildPairs(item, chosen, options);
}

describe('DSAT pairs from a multi-turn conversation', () => {
  const chat = conversation('multi', [
    ['system', 'You are a math tutor.'],
    ['user', 'What is 7 times 8?'],
    ['assistant', '7 times 8 is 54.'],
    ['user', "That's wrong."],
    ['assistant', 'Sorry, 7 times 8 is 58.'],
    ['user', 'Still wrong! Try again.'],
    ['assistant', '7 times 8 is 56.'],
    ['user', 'Thanks, perfect!'],
    ['assistant', 'Glad to help.'],
  ]);
  const { pairs, satRecords } = mine(chat);

  it('makes one pair per DSAT turn, with the context before the rejected answer (system message kept)', () => {
    expect(pairs.map((pair) => [pair.rejected.turn, pair.feedback.turn])).toEqual([
      [2, 3],
      [4, 5],
    ]);
    const [first, second] = pairs;
    expect(first!.context.map((message) => message.role)).toEqual(['system', 'user']);
    expect(first!.context[0]!.content).toBe('You are a math tutor.');
    expect(first!.rejected.content).toBe('7 times 8 is 54.');
    expect(first!.feedback.content).toBe("That's wrong.");
    expect(second!.context.map((message) => message.turn)).toEqual([0, 1, 2, 3]);
    expect(second!.categories).toEqual(expect.arrayContaining(['revision']));
    expect(first!.categories).toContain('factual_error');
    expect(first!.evidence.every((evidence) => evidence.turn === 3)).toBe(true);
    expect(first!.lengths).toMatchObject({ rejected: 16, feedback: 13 });
  });

  it('gives both DSAT turns the later answer that drew SAT as chosen (seed pairs)', () => {
    for (const pair of pairs) {
      expect(pair.kind).toBe('seed');
      expect(pair.chosen?.content).toBe('7 times 8 is 56.');
      expect(pair.chosen?.turn).toBe(6);
      expect(pair.satTurn).toBe(7);
      expect(pair.source).toBe('mined');
      expect(pair.detector).toBe('rules');
    }
  });

  it('keeps the SAT answer as a SAT record with its context', () => {
    expect(satRecords).toHaveLength(1);
    expect(satRecords[0]!.response.content).toBe('7 times 8 is 56.');
    expect(satRecords[0]!.feedback?.content).toBe('Thanks, perfect!');
    expect(satRecords[0]!.context).toHaveLength(6);
    expect(satRecords[0]!.categories).toEqual(expect.arrayContaining(['gratitude', 'praise']));
  });

  it('has stable ids that depend on the turns, not on the detector', () => {
    expect(pairs[0]!.id).toBe(pairId('ds', 'multi', 2, 3, 'mined'));
    expect(new Set(pairs.map((pair) => pair.id)).size).toBe(2);
    expect(mine(chat).pairs.map((pair) => pair.id)).toEqual(pairs.map((pair) => pair.id));
  });

  it('makes plain DSAT pairs when seed pairs are off, or when nothing later drew SAT', () => {
    expect(
      mine(chat, { ...OPTIONS, seedPairs: false }).pairs.every((pair) => pair.kind === 'dsat' && !pair.chosen),
    ).toBe(true);
    const unresolved = conversation('open', [
      ['user', 'Name the largest planet.'],
      ['assistant', 'Saturn.'],
      ['user', 'No, that is incorrect.'],
      ['assistant', 'Jupiter.'],
    ]);
    const [pair] = mine(unresolved).pairs;
    expect(pair?.kind).toBe('dsat');
    expect(pair?.chosen).toBeUndefined();
  });

  it('takes no answer to another request as chosen: the user moved on, or asked something new', () => {
    const movedOn = conversation('moved-on', [
      ['user', 'What is 7 times 8?'],
      ['assistant', '7 times 8 is 54.'],
      ['user', 'Forget it. What is the capital of France?'],
      ['assistant', 'Paris.'],
      ['user', 'Thanks, perfect!'],
    ]);
    const [gaveUp] = mine(movedOn).pairs;
    expect(gaveUp?.categories).toContain('no_engagement');
    expect(gaveUp?.kind).toBe('dsat');
    expect(gaveUp?.chosen).toBeUndefined();

    const newRequest = conversation('new-request', [
      ['user', 'What is 7 times 8?'],
      ['assistant', '7 times 8 is 54.'],
      ['user', "That's wrong."],
      ['assistant', '7 times 8 is 57.'],
      ['user', 'Now list three fruits.'],
      ['assistant', 'Apple, pear, plum.'],
      ['user', 'Thanks, perfect!'],
    ]);
    const built = mine(newRequest).pairs;
    expect(built.map((pair) => pair.rejected.turn)).toEqual([1]);
    expect(built[0]?.kind).toBe('dsat');
    expect(built[0]?.chosen).toBeUndefined();
  });

  it('does not take an answer that drew a mixed (both) reaction as chosen', () => {
    const mixed = conversation('mixed', [
      ['user', 'Give me a slogan.'],
      ['assistant', 'Buy now.'],
      ['user', 'Too short, try again.'],
      ['assistant', 'Buy now, smile later.'],
      ['user', 'Thanks, but that is wrong.'],
    ]);
    const built = mine(mixed);
    expect(built.pairs.map((pair) => [pair.rejected.turn, pair.kind])).toEqual([
      [1, 'dsat'],
      [3, 'dsat'],
    ]);
    expect(built.satRecords).toEqual([]);
  });

  it('leaves out signals below the confidence threshold', () => {
    expect(mine(chat, { ...OPTIONS, minConfidence: 0.99 }).pairs).toEqual([]);
  });
});

describe('imported labels', () => {
  it('takes WildFeedback-style turn labels as they are, and lets them win over the rules', () => {
    const labelled = conversation('wf', [
      ['user', 'Write a haiku about rain.'],
      ['assistant', 'Rain falls on the roof...'],
      ['user', 'Thanks!', { sat: false, dsat: true, judges: 1, categories: ['Style'] }],
      ['assistant', 'Soft rain on the roof...'],
      ['user', 'Make it about snow.', { sat: true, dsat: true, judges: 3 }],
    ]);
    const labels = new LabelsDetector().detect(labelled);
    expect(labels.map((signal) => [signal.turn, signal.judgedTurn, signal.polarity, signal.categories])).toEqual([
      [2, 1, 'dsat', ['style']],
      [4, 3, 'both', []],
    ]);
    const built = mine(labelled);
    expect(built.pairs.map((pair) => [pair.rejected.turn, pair.detector, pair.categories])).toEqual([
      [1, 'labels', ['style']],
      [3, 'labels', []],
    ]);
  });

  it('turns a DRIFT dsat_data row into a DSAT pair with its feedback (and its chosen answer if any)', () => {
    const row = conversation(
      'drift',
      [
        ['system', 'Be brief.'],
        ['user', 'Explain recursion.'],
      ],
      {
        format: 'drift-dsat',
        pair: { rejected: { role: 'assistant', content: 'Recursion is recursion.', turn: 2 } },
        feedback: { role: 'user', content: 'That explains nothing, give an example.', turn: 3 },
      },
    );
    const [pair] = mine(row).pairs;
    expect(pair).toMatchObject({ source: 'drift', kind: 'dsat', detector: 'labels', confidence: 1 });
    expect(pair!.context.map((message) => message.content)).toEqual(['Be brief.', 'Explain recursion.']);
    expect(pair!.rejected.content).toBe('Recursion is recursion.');
    expect(pair!.feedback.content).toBe('That explains nothing, give an example.');
    const withChosen = {
      ...row,
      pair: { ...row.pair, chosen: { role: 'assistant' as const, content: 'A function calling itself...', turn: 2 } },
    };
    expect(mine(withChosen).pairs[0]).toMatchObject({
      kind: 'seed',
      chosen: { content: 'A function calling itself...' },
    });
  });

  it('reads a KTO label on the last answer: false makes a pair with the generic feedback, true a SAT record', () => {
    const turns = [
      ['user', 'Summarise the plot of Hamlet.'],
      ['assistant', 'A prince in Denmark...'],
    ] as const;
    const bad = mine(conversation('kto-false', turns, { format: 'kto', label: false }));
    expect(bad.pairs).toHaveLength(1);
    expect(bad.pairs[0]).toMatchObject({
      source: 'kto',
      kind: 'dsat',
      feedback: { role: 'user', turn: 2, content: OPTIONS.genericFeedback },
    });
    expect(bad.pairs[0]!.feedback.metadata).toEqual({ generated: true });
    const good = mine(conversation('kto-true', turns, { format: 'kto', label: true }));
    expect(good.pairs).toEqual([]);
    expect(good.satRecords).toHaveLength(1);
    expect(good.satRecords[0]!.feedback).toBeUndefined();
    expect(good.satRecords[0]!.response.content).toBe('A prince in Denmark...');
  });
});

describe('the preference adapter', () => {
  const ultrafeedback = conversation('uf', [['user', 'Name a prime number.']], {
    format: 'ultrafeedback',
    pair: {
      chosen: { role: 'assistant', content: '7 is prime.', turn: 1 },
      rejected: { role: 'assistant', content: '9 is prime.', turn: 1 },
    },
    metadata: {
      completions: [
        { response: '7 is prime.', overall_score: 9, critique: 'Correct.' },
        { response: '9 is prime.', overall_score: 2, critique: 'Wrong: 9 = 3 x 3.' },
        { response: '4 is prime.', overall_score: 1, critique: 'Wrong: 4 is even.' },
        { response: '11.', annotations: { honesty: { Rating: '5' }, helpfulness: { Rating: '4' } } },
      ],
    },
  });

  it('takes the lowest-rated completion as rejected, the highest as chosen, its critique as feedback', () => {
    const [pair] = mine(ultrafeedback).pairs;
    expect(pair).toMatchObject({ source: 'preference', kind: 'seed', detector: 'labels', confidence: 1 });
    expect(pair!.rejected.content).toBe('4 is prime.');
    expect(pair!.chosen?.content).toBe('7 is prime.');
    expect(pair!.feedback.content).toBe('Wrong: 4 is even.');
    expect(pair!.context.map((message) => message.content)).toEqual(['Name a prime number.']);
    expect([pair!.rejected.turn, pair!.feedback.turn]).toEqual([1, 2]);
  });

  it('is configurable: the pair’s own answers, no chosen, a generic feedback', () => {
    const [pair] = mine(ultrafeedback, {
      ...OPTIONS,
      preference: { enabled: true, rejected: 'pair', chosen: 'none', feedback: 'generic' },
    }).pairs;
    expect(pair!.rejected.content).toBe('9 is prime.');
    expect(pair!.chosen).toBeUndefined();
    expect(pair!.kind).toBe('dsat');
    expect(pair!.feedback.content).toBe(OPTIONS.genericFeedback);
    expect(mine(ultrafeedback, { ...OPTIONS, preference: { ...OPTIONS.preference, enabled: false } }).pairs).toEqual(
      [],
    );
    expect(mine(ultrafeedback, { ...OPTIONS, labels: false }).pairs).toEqual([]);
  });

  it('falls back to the binarized pair when there are no rated completions', () => {
    const binarized = { ...ultrafeedback, metadata: {} };
    const [pair] = mine(binarized).pairs;
    expect(pair!.rejected.content).toBe('9 is prime.');
    expect(pair!.chosen?.content).toBe('7 is prime.');
    expect(pair!.feedback.content).toBe(OPTIONS.genericFeedback);
  });
});

describe('chooseSignals', () => {
  it('takes each turn from the first detector that judged it and marks it primary', () => {
    const signal = (detector: Signal['detector'], turn: number, polarity: Signal['polarity']): Signal => ({
      conversationId: 'c',
      turn,
      judgedTurn: turn - 1,
      polarity,
      categories: [],
      confidence: 1,
      detector,
      evidence: [],
    });
    const chosen = chooseSignals([
      [signal('labels', 3, 'neither')],
      [signal('rules', 3, 'dsat'), signal('rules', 5, 'sat')],
    ]);
    expect(chosen.get(3)).toMatchObject({ detector: 'labels', polarity: 'neither', primary: true });
    expect(chosen.get(5)).toMatchObject({ detector: 'rules', polarity: 'sat', primary: true });
  });
});

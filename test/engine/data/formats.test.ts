/**
 * One small fixture per format: detection picks the right adapter, and normalisation keeps the
 * semantics later stages rely on (DRIFT's prompt/rejected/user_preference, WildFeedback's
 * per-turn SAT/DSAT flags, preference context vs answers, labels, scores and metadata).
 */
import { describe, expect, it } from 'vitest';
import { applyMapping, detectFormat, findFormat, listFields } from '../../../src-main/engine/data/formats/index.js';
import type { Draft, NormalizedItem } from '../../../src-main/engine/data/formats/index.js';
import { resolveLimits } from '../../../src-main/engine/data/limits.js';
import { ConversationFinisher } from '../../../src-main/engine/data/pipeline.js';

function normalize(records: unknown[], format?: string): { format: string | null; items: NormalizedItem[] } {
  const adapter = format ? findFormat(format) : detectFormat(records).format;
  if (!adapter) return { format: null, items: [] };
  const normalizer = adapter.createNormalizer();
  const items = records.flatMap((value, index) =>
    normalizer.push({ kind: 'record', value, location: { file: 't.jsonl', line: index + 1, byteOffset: index * 100 } }),
  );
  return { format: adapter.name, items: [...items, ...normalizer.flush()] };
}

function drafts(records: unknown[], format?: string): { format: string | null; drafts: Draft[] } {
  const result = normalize(records, format);
  const errors = result.items.filter((item) => item.kind === 'error');
  expect(errors).toEqual([]);
  return { format: result.format, drafts: result.items.flatMap((item) => (item.kind === 'draft' ? [item.draft] : [])) };
}

const say = (role: string, content: string) => ({ role, content });

describe('DRIFT files', () => {
  it('dsat_data: prompt is the context, rejected[0] the DSAT response, user_preference the feedback turn', () => {
    const record = {
      prompt: [say('system', 'Be brief.'), say('user', 'List three primes.')],
      rejected: [say('assistant', 'Primes are numbers divisible only by one and themselves, such as...')],
      user_preference: say('user', 'Just the numbers please.'),
      category: 'Style',
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('drift-dsat');
    expect(draft!.messages.map((message) => [message.role, message.turn])).toEqual([
      ['system', 0],
      ['user', 1],
    ]);
    expect(draft!.pair).toEqual({ rejected: { role: 'assistant', content: record.rejected[0]!.content, turn: 2 } });
    expect(draft!.feedback).toEqual({ role: 'user', content: 'Just the numbers please.', turn: 3 });
    expect(draft!.metadata).toEqual({ category: 'Style' });
  });

  it('sat_data: prompt plus the satisfying chosen answer', () => {
    const {
      format,
      drafts: [draft],
    } = drafts([{ prompt: [say('user', 'hi')], chosen: [say('assistant', 'hello!')] }]);
    expect(format).toBe('drift-sat');
    expect(draft!.pair).toEqual({ chosen: { role: 'assistant', content: 'hello!', turn: 1 } });
  });

  it('seed pairs (prompt/chosen/rejected as message lists that repeat the prompt) read as preference pairs', () => {
    const record = {
      prompt: 'What is 2+2?',
      chosen: [say('user', 'What is 2+2?'), say('assistant', '4')],
      rejected: [say('user', 'What is 2+2?'), say('assistant', '5')],
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('preference');
    expect(draft!.messages).toEqual([{ role: 'user', content: 'What is 2+2?', turn: 0 }]);
    expect(draft!.pair?.chosen?.content).toBe('4');
    expect(draft!.pair?.rejected).toEqual({ role: 'assistant', content: '5', turn: 1 });
  });
});

describe('WildFeedback', () => {
  it('the wildfeedback config (ShareGPT conversations plus chosen/rejected)', () => {
    const record = {
      conversations: [
        { from: 'human', value: 'Write a haiku about rain.' },
        { from: 'gpt', value: 'Rain falls.' },
        { from: 'human', value: 'That is not a haiku, try again.' },
      ],
      chosen: { from: 'gpt', value: 'Soft rain on the roof / ...' },
      rejected: { from: 'gpt', value: 'Rain is wet.' },
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('sharegpt');
    expect(findFormat('wildfeedback').name).toBe('sharegpt');
    expect(draft!.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(draft!.pair?.chosen).toEqual({ role: 'assistant', content: 'Soft rain on the roof / ...', turn: 3 });
    expect(draft!.pair?.rejected?.content).toBe('Rain is wet.');
  });

  it('user_preference: the preference becomes the feedback turn', () => {
    const record = {
      conversations: [
        { from: 'human', value: 'hi' },
        { from: 'gpt', value: 'hey' },
      ],
      user_preference: ['be formal'],
    };
    const {
      drafts: [draft],
    } = drafts([record]);
    expect(draft!.feedback).toMatchObject({ role: 'user', content: 'be formal', turn: 2 });
  });

  it('sat_dsat_annotation: utterances grouped into conversations; a flag on a user turn judges the turn before', () => {
    const row = (id: number, role: string, content: string, sat: boolean, dsat: boolean) => ({
      UtterranceId: id,
      TurnId: Math.floor(id / 2) + 1,
      Role: role,
      Content: content,
      Preceeding: 'YES',
      Satisfaction: sat,
      Disatisfaction: dsat,
      State: 'FEEDBACK',
    });
    const records = [
      row(0, 'User', 'Translate "cat" to French.', false, false),
      row(1, 'Agent', 'Gato.', false, false),
      row(2, 'User', 'No, that is Spanish. French please.', false, true),
      row(3, 'Agent', 'Chat.', false, false),
      row(4, 'User', 'Thanks!', true, false),
      row(0, 'User', 'New conversation.', false, false),
      row(1, 'Agent', 'Hello.', true, true),
    ];
    const { format, drafts: list } = drafts(records);
    expect(format).toBe('wildfeedback-annotations');
    expect(list).toHaveLength(2);
    const [first, second] = list;
    expect(first!.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(first!.messages[2]!.labels).toEqual({
      sat: false,
      dsat: true,
      judges: 1,
      original: { Satisfaction: false, Disatisfaction: true, Preceeding: 'YES' },
    });
    expect(first!.messages[4]!.labels).toMatchObject({ sat: true, dsat: false, judges: 3 });
    // The first user turn judges nothing.
    expect(first!.messages[0]!.labels?.judges).toBeUndefined();
    // Flags on an agent row are not judgements.
    expect(second!.messages[1]!.labels).toBeUndefined();
    expect(second!.messages[1]!.metadata).toMatchObject({ Satisfaction: true, Disatisfaction: true });
  });
});

describe('chat logs', () => {
  it('WildChat: conversation_hash, per-turn fields on each message, the rest in metadata', () => {
    const record = {
      conversation_hash: 'abc123',
      model: 'gpt-4-0314',
      conversation: [
        {
          role: 'user',
          content: 'hi',
          timestamp: '2023-05-01T00:00:00Z',
          toxic: false,
          country: 'France',
          turn_identifier: 7,
        },
        { role: 'assistant', content: 'hello', timestamp: '2023-05-01T00:00:05Z', toxic: false, turn_identifier: 7 },
      ],
      language: 'English',
      toxic: false,
      redacted: false,
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('wildchat');
    expect(draft!.messages[0]).toEqual({
      role: 'user',
      content: 'hi',
      turn: 0,
      metadata: { timestamp: '2023-05-01T00:00:00Z', toxic: false, country: 'France', turn_identifier: 7 },
    });
    expect(draft!.metadata).toEqual({
      conversation_hash: 'abc123',
      model: 'gpt-4-0314',
      language: 'English',
      toxic: false,
      redacted: false,
    });
  });

  it('LMSYS-Chat and ShareGPT with a system column', () => {
    expect(
      drafts([{ conversation_id: 'x', conversation: [say('user', 'a'), say('assistant', 'b')], turn: 1 }]).format,
    ).toBe('lmsys-chat');
    const {
      format,
      drafts: [draft],
    } = drafts([{ system: 'You are terse.', conversations: [{ from: 'human', value: 'q' }] }]);
    expect(format).toBe('sharegpt');
    expect(draft!.messages).toEqual([
      { role: 'system', content: 'You are terse.', turn: 0 },
      { role: 'user', content: 'q', turn: 1 },
    ]);
  });

  it('OpenAI messages whose content is a list of parts or an object', () => {
    const record = {
      messages: [
        { role: 'developer', content: 'Be nice.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        { role: 'assistant', content: { answer: 'A cat.', model: 'gpt-4' } },
      ],
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('openai');
    expect(draft!.messages.map((message) => [message.role, message.content])).toEqual([
      ['system', 'Be nice.'],
      ['user', 'Describe'],
      ['assistant', 'A cat.'],
    ]);
    expect(draft!.messages[1]!.metadata).toEqual({ nonTextParts: ['image_url'] });
    expect(draft!.messages[2]!.metadata).toEqual({ content: { model: 'gpt-4' } });
  });

  it('KTO: messages plus a boolean label, also TRL prompt/completion with a text label', () => {
    const a = drafts([{ messages: [say('user', 'q'), say('assistant', 'bad answer')], label: false }]);
    expect(a.format).toBe('kto');
    expect(a.drafts[0]!.label).toBe(false);
    const b = drafts([{ prompt: 'q', completion: 'good answer', label: 'true' }]);
    expect(b.format).toBe('kto');
    expect(b.drafts[0]).toMatchObject({
      label: true,
      messages: [{ role: 'user' }, { role: 'assistant', content: 'good answer', turn: 1 }],
    });
  });
});

describe('preference data', () => {
  it('HH-RLHF transcripts: the shared turns are the context', () => {
    const context = '\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in water.\n\nHuman: For how long?';
    const {
      format,
      drafts: [draft],
    } = drafts([
      { chosen: `${context}\n\nAssistant: About 9 minutes.`, rejected: `${context}\n\nAssistant: Forever.` },
    ]);
    expect(format).toBe('hh-rlhf');
    expect(draft!.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'How do I boil an egg?'],
      ['assistant', 'Put it in water.'],
      ['user', 'For how long?'],
    ]);
    expect(draft!.pair).toEqual({
      chosen: { role: 'assistant', content: 'About 9 minutes.', turn: 3 },
      rejected: { role: 'assistant', content: 'Forever.', turn: 3 },
    });
  });

  it('UltraFeedback raw: best and worst rated completions, all kept', () => {
    const completion = (model: string, response: string, score: number) => ({
      model,
      response,
      overall_score: score,
      critique: `critique of ${model}`,
      annotations: {},
    });
    const record = {
      source: 'evol_instruct',
      instruction: 'Explain recursion.',
      completions: [completion('a', 'ok', 6), completion('b', 'great', 9), completion('c', 'bad', 2)],
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('ultrafeedback');
    expect(draft!.pair).toMatchObject({
      chosen: { content: 'great', turn: 1 },
      rejected: { content: 'bad', turn: 1 },
      chosenScore: 9,
      rejectedScore: 2,
    });
    expect(draft!.metadata['completions']).toHaveLength(3);
  });

  it('UltraFeedback binarized: message lists with score_chosen/score_rejected', () => {
    const record = {
      prompt: 'Name a color.',
      prompt_id: 'p1',
      chosen: [say('user', 'Name a color.'), say('assistant', 'Blue.')],
      rejected: [say('user', 'Name a color.'), say('assistant', 'Seven.')],
      score_chosen: 8.5,
      score_rejected: 3,
    };
    const {
      format,
      drafts: [draft],
    } = drafts([record]);
    expect(format).toBe('ultrafeedback-binarized');
    expect(draft!.pair).toMatchObject({ chosenScore: 8.5, rejectedScore: 3, chosen: { content: 'Blue.' } });
  });

  it('replies with likes, and instructions (Alpaca)', () => {
    const likes = drafts([
      {
        query: 'hello',
        replys: [
          { reply: 'meh', like: 1, dislike: 3 },
          { reply: 'hi there!', like: 40, dislike: 1 },
        ],
      },
    ]);
    expect(likes.format).toBe('reply-likes');
    expect(likes.drafts[0]!.pair).toMatchObject({
      chosen: { content: 'hi there!' },
      rejected: { content: 'meh' },
      chosenScore: 39,
    });
    const alpaca = drafts([{ instruction: 'Translate', input: 'chat', output: 'cat' }]);
    expect(alpaca.format).toBe('instruction');
    expect(alpaca.drafts[0]!.messages).toEqual([
      { role: 'user', content: 'Translate\n\nchat', turn: 0 },
      { role: 'assistant', content: 'cat', turn: 1 },
    ]);
  });
});

describe('unknown shapes and mapping', () => {
  it('leaves an unknown shape undetected, lists its fields, and reads it after a mapping', () => {
    const records = [
      { q: 'Capital of France?', answers: [{ text: 'Paris', votes: 3 }] },
      { q: 'Capital of Spain?', answers: [{ text: 'Madrid', votes: 1 }] },
    ];
    expect(detectFormat(records).format).toBeNull();
    expect(listFields(records).map((field) => field.path)).toEqual([
      'q',
      'answers',
      'answers.0',
      'answers.0.text',
      'answers.0.votes',
    ]);
    const mapped = records.map((record) => applyMapping(record, { prompt: 'q', chosen: 'answers.0.text' }));
    const {
      format,
      drafts: [draft],
    } = drafts(mapped);
    expect(format).toBe('preference');
    expect(draft!.messages).toEqual([{ role: 'user', content: 'Capital of France?', turn: 0 }]);
    expect(draft!.pair).toEqual({ chosen: { role: 'assistant', content: 'Paris', turn: 1 } });
    // The mapped top-level field moved; the deeper source stays in metadata.
    expect(draft!.metadata).toEqual({ answers: [{ text: 'Paris', votes: 3 }] });
  });
});

describe('bad records', () => {
  const finisher = new ConversationFinisher({
    redact: false,
    language: null,
    limits: resolveLimits({ maxMessages: 3 }),
  });
  const codes = (records: unknown[], format: string) =>
    normalize(records, format).items.map((item) => {
      if (item.kind === 'error') return item.error.code;
      const finished = finisher.finish(item.draft, item.location, format);
      return finished.ok ? 'ok' : finished.error.code;
    });

  it('reports missing and mistyped fields, unknown roles, empty and oversized conversations', () => {
    expect(
      codes(
        [
          { messages: [say('user', 'fine'), say('assistant', 'ok')] },
          { messages: [{ role: 'user' }] },
          { messages: [{ role: 'user', content: 42 }] },
          { messages: [say('tool', 'result')] },
          { messages: [] },
          { messages: [say('user', '   '), say('assistant', '')] },
          { messages: [say('user', 'a'), say('assistant', 'b'), say('user', 'c'), say('assistant', 'd')] },
          'not an object',
          { messages: 'plain text' },
        ],
        'openai',
      ),
    ).toEqual([
      'ok',
      'field_missing',
      'field_type',
      'role_unknown',
      'conversation_empty',
      'conversation_empty',
      'record_too_large',
      'field_type',
      'field_type',
    ]);
  });

  it('rejects a ShareGPT turn from an unknown speaker', () => {
    expect(codes([{ conversations: [{ from: 'function_call', value: '{}' }] }], 'sharegpt')).toEqual(['role_unknown']);
  });
});

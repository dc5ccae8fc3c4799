/**
 * The last steps of an import: the writer's lines, the sink's two ways to add the language facet
 * (inline, or from the detection thread with the language appended to the waiting JSON text),
 * which must write the same file and the same counts, and the compact duplicate index.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuplicateIndex } from '../../../src-main/engine/data/dedupe.js';
import { loadLanguageDetector, startLanguageWorker } from '../../../src-main/engine/data/language.js';
import { ImportTally } from '../../../src-main/engine/data/pipeline.js';
import type { Conversation } from '../../../src-main/engine/data/schema.js';
import { ConversationSink, type LanguageSource } from '../../../src-main/engine/data/sink.js';
import { JsonlWriter } from '../../../src-main/engine/data/writer.js';
import { makeTempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const TEXTS = [
  'Please explain why this function returns the wrong value when the list is empty.',
  'Объясни, пожалуйста, почему эта функция возвращает неправильное значение.',
  '请解释为什么这个函数在列表为空时返回错误的值。',
  'Por favor, explica por qué esta función devuelve un valor incorrecto.',
  'ok',
];

function conversation(index: number): Conversation {
  const conversation: Conversation = {
    id: index.toString(16).padStart(16, '0'),
    source: { file: 'chat.jsonl', line: index + 1, byteOffset: index * 100 },
    format: 'wildchat',
    messages: [
      { role: 'user', content: `${TEXTS[index % TEXTS.length]!} «${index}»`, turn: 0 },
      { role: 'assistant', content: 'Here is a fix: "return []" \\ and a newline\nin the answer.', turn: 1 },
    ],
    metadata: { model: 'gpt-4', nested: { list: [1, null, 'x'] } },
  };
  if (index % 7 === 3) conversation.pii = { counts: { email: 1 }, spans: [], redacted: false };
  if (index % 11 === 5) conversation.duplicateOf = '0000000000000000';
  return conversation;
}

async function importThrough(language: LanguageSource | null, count: number) {
  const file = path.join(await makeTempDir('drift-sink-'), 'conversations.jsonl');
  const writer = await JsonlWriter.create(file);
  const tally = new ImportTally(10);
  const sink = new ConversationSink(writer, tally, language);
  for (let index = 0; index < count; index++) await sink.add(conversation(index));
  await sink.flush();
  await writer.close();
  return { text: await readFile(file, 'utf8'), tally };
}

describe('ConversationSink', () => {
  it('writes the same lines and counts with the detection thread as inline, in file order', async () => {
    const count = 1000; // several batches in flight, and a partial one at the end
    const inline = await importThrough({ inline: await loadLanguageDetector() }, count);
    const worker = await startLanguageWorker();
    expect(worker).not.toBeNull();
    let threaded: Awaited<ReturnType<typeof importThrough>>;
    try {
      threaded = await importThrough({ worker: worker! }, count);
    } finally {
      await worker!.close();
    }
    expect(threaded.text).toBe(inline.text);
    expect(threaded.tally.languages).toEqual(inline.tally.languages);
    expect(inline.tally.languages).toMatchObject({ en: 200, ru: 200, zh: 200, es: 200, und: 200 });
    expect(threaded.tally).toMatchObject({ conversations: count, messages: 2 * count });
    expect(threaded.tally.piiConversations).toBe(inline.tally.piiConversations);

    const lines = inline.text.trimEnd().split('\n');
    expect(lines).toHaveLength(count);
    const parsed = lines.map((line) => JSON.parse(line) as Conversation);
    expect(parsed.map((row) => row.source.line)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
    expect(parsed[0]).toEqual({ ...conversation(0), language: 'en' });
    expect(Object.keys(parsed[3]!).at(-1)).toBe('language');
  });

  it('writes conversations without a language when the facet is off', async () => {
    const { text, tally } = await importThrough(null, 3);
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Conversation),
    ).toEqual([conversation(0), conversation(1), conversation(2)]);
    expect(tally.languages).toEqual({});
  });
});

describe('JsonlWriter', () => {
  it('writes lines across buffer flushes and a line longer than its buffer', async () => {
    const file = path.join(await makeTempDir('drift-writer-'), 'out.jsonl');
    const writer = await JsonlWriter.create(file);
    const long = 'ж'.repeat(3 << 20); // 6 MiB of UTF-8, more than the 4 MiB buffer
    const expected: string[] = [];
    for (let index = 0; index < 2000; index++) {
      const value = { index, text: `${'é'.repeat(index % 50)}🙂${index}` };
      await writer.write(value);
      expected.push(JSON.stringify(value));
      if (index === 1000) {
        await writer.writeLine(`{"long":"${long}"`, '}');
        expected.push(`{"long":"${long}"}`);
      }
    }
    await writer.close();
    expect(await readFile(file, 'utf8')).toBe(`${expected.join('\n')}\n`);
  });
});

describe('DuplicateIndex', () => {
  const hash = (index: number) =>
    Buffer.alloc(20, index % 251)
      .toString('base64')
      .slice(0, 27);
  const id = (index: number) => index.toString(16).padStart(16, 'a');

  it('returns the first id of the same content and counts the duplicates, across its growth', () => {
    const index = new DuplicateIndex();
    // Hashes that agree on their first bytes fill neighbouring slots: the probing must still tell them apart.
    const hashes = Array.from({ length: 6000 }, (_, at) => {
      const bytes = Buffer.alloc(20);
      bytes.writeUInt32BE(at % 64, 0);
      bytes.writeUInt32BE(at, 8);
      return bytes.toString('base64').slice(0, 27);
    });
    expect(hashes.map((value, at) => index.check(value, id(at))).filter((first) => first !== undefined)).toEqual([]);
    const again = hashes.flatMap((value, at) => (at % 100 === 0 ? [[index.check(value, id(at + 1)), id(at)]] : []));
    expect(again.filter(([first, expected]) => first !== expected)).toEqual([]);
    expect(index.duplicates).toBe(60);
    expect(index.check(hash(7), 'ffffffffffffffff')).toBeUndefined();
    expect(index.check(hash(7), '0123456789abcdef')).toBe('ffffffffffffffff');
    expect(index.check(hash(8), '0000000000000001')).toBeUndefined();
    expect(index.check(hash(8), '0000000000000002')).toBe('0000000000000001');
  });

  it('refuses ids that are not 16 hex digits', () => {
    expect(() => new DuplicateIndex().check(hash(1), 'not-an-id')).toThrow(/16 hex digits/);
  });
});

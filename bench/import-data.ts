/**
 * A deterministic WildChat-style JSONL file for the import benchmark: multi-turn conversations
 * with WildChat's per-turn fields, several scripts (Latin, Cyrillic, CJK, emoji), code, and a
 * little personal data (e-mails, phones) for the scanner to find. Same seed, same bytes.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { mulberry32 as random } from '../src-main/engine/compute/mulberry32.js';

const WORDS = {
  en: 'the a model answer please write code explain why how what function data user error fix again not correct this that with for into table list summary python javascript example step better shorter longer format json'.split(
    ' ',
  ),
  ru: 'привет ответь пожалуйста объясни почему как что функция данные ошибка снова неправильно напиши код список пример'.split(
    ' ',
  ),
  zh: '你好 请 写 代码 解释 为什么 怎么 函数 数据 错误 再 不对 列表 例子 更短 格式'.split(' '),
  es: 'hola por favor escribe código explica por qué cómo función datos error otra vez incorrecto lista ejemplo'.split(
    ' ',
  ),
};
const LANGUAGE_NAMES = { en: 'English', ru: 'Russian', zh: 'Chinese', es: 'Spanish' } as const;
const MODELS = ['gpt-3.5-turbo-0613', 'gpt-4-0314', 'gpt-4-1106-preview'];
const COUNTRIES = ['United States', 'Russia', 'China', 'Germany', 'Brazil'];

function text(next: () => number, language: keyof typeof WORDS, words: number): string {
  const list = WORDS[language];
  const parts: string[] = [];
  for (let index = 0; index < words; index++) {
    parts.push(list[Math.floor(next() * list.length)]!);
    if (next() < 0.08) parts.push(next() < 0.5 ? '.\n' : ',');
  }
  if (next() < 0.1) parts.push('\n```python\ndef f(x):\n    return {"value": x * 2}\n```\n');
  if (next() < 0.02) parts.push(`mail me at user${Math.floor(next() * 1e6)}@example.com`);
  if (next() < 0.02) parts.push(`call +1 415 555 ${String(Math.floor(next() * 9000) + 1000)}`);
  if (next() < 0.05) parts.push('🙂 “quoted” — naïve café');
  return parts.join(' ');
}

function record(next: () => number, index: number): string {
  const languages = Object.keys(WORDS) as (keyof typeof WORDS)[];
  const language = next() < 0.7 ? 'en' : languages[Math.floor(next() * languages.length)]!;
  const turns = 1 + Math.floor(next() * 4);
  let hash = '';
  while (hash.length < 32)
    hash += Math.floor(next() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  const country = COUNTRIES[Math.floor(next() * COUNTRIES.length)]!;
  const conversation: unknown[] = [];
  const stamp = Date.UTC(2023, 4, 1) + index * 37_000;
  for (let turn = 0; turn < turns; turn++) {
    const common = {
      language: LANGUAGE_NAMES[language],
      redacted: false,
      toxic: false,
      turn_identifier: index * 10 + turn,
    };
    conversation.push({
      content: text(next, language, 20 + Math.floor(next() * 120)),
      country,
      hashed_ip: hash.slice(0, 16),
      header: { 'accept-language': 'en-US,en;q=0.9', 'user-agent': 'Mozilla/5.0' },
      role: 'user',
      state: null,
      timestamp: new Date(stamp + turn * 60_000).toISOString(),
      ...common,
    });
    conversation.push({
      content: text(next, language, 60 + Math.floor(next() * 400)),
      country: null,
      hashed_ip: null,
      header: null,
      role: 'assistant',
      state: null,
      timestamp: new Date(stamp + turn * 60_000 + 20_000).toISOString(),
      ...common,
    });
  }
  return JSON.stringify({
    conversation_hash: hash,
    model: MODELS[index % MODELS.length],
    timestamp: new Date(stamp).toISOString(),
    conversation,
    turn: turns,
    language: LANGUAGE_NAMES[language],
    openai_moderation: [{ categories: { harassment: false, violence: false }, flagged: false }],
    detoxify_moderation: [{ toxicity: 0.0012, insult: 0.0003 }],
    toxic: false,
    redacted: false,
    state: null,
    country,
    hashed_ip: hash.slice(0, 16),
    header: { 'accept-language': 'en-US,en;q=0.9', 'user-agent': 'Mozilla/5.0' },
  });
}

/** Writes `bytes` (at least) of WildChat-style JSONL to `file`, unless it is already there. */
export async function ensureWildchatJsonl(file: string, bytes: number): Promise<number> {
  const existing = await stat(file).catch(() => undefined);
  if (existing && existing.size >= bytes && existing.size < bytes + 64 * 1024) return existing.size;
  const next = random(20251002);
  const out = createWriteStream(file);
  let written = 0;
  let index = 0;
  let batch: string[] = [];
  while (written < bytes) {
    const line = `${record(next, index++)}\n`;
    written += Buffer.byteLength(line);
    batch.push(line);
    if (batch.length >= 256) {
      if (!out.write(batch.join(''))) await once(out, 'drain');
      batch = [];
    }
  }
  out.end(batch.join(''));
  await once(out, 'finish');
  return written;
}

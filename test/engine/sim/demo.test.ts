/**
 * The committed demo (resources/demo, made by scripts/demo/build-base-model.ts): the base model
 * loads with its tokenizer and chat template, is small, and is clearly imperfect on held-out
 * prompts; its deployment logs import as WildChat, their ground truth lines up with them, and the
 * rules detector reads the users' reactions with the polarity they were written with.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation } from '../../../src-main/api/index.js';
import type { ImportResult } from '../../../src-main/engine/data/index.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/index.js';
import { countParameters, loadHfModel } from '../../../src-main/engine/model/index.js';
import type { GroundTruthAnswer, GroundTruthLabel, WildChatRecord } from '../../../src-main/engine/sim/index.js';
import { heldOutSuccessRate, heldOutTasks } from '../../../src-main/engine/sim/index.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import { loadTokenizer } from '../../../src-main/engine/text/index.js';
import { useBackend } from '../model/helpers.js';
import { describeAgreement, importFile, removeTempFolders, rulesAgreement } from './helpers.js';

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/demo');
const MODEL = path.join(DEMO, 'base-model');
const LOGS = path.join(DEMO, 'logs');
const TRUTH = path.join(DEMO, 'ground-truth');

async function readJsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

let model: CausalLanguageModel;
let tokenizer: Tokenizer;
let records: WildChatRecord[];
let labels: GroundTruthLabel[];
let answers: GroundTruthAnswer[];
let imported: { result: ImportResult; conversations: Conversation[] };

beforeAll(async () => {
  await useBackend('wasm');
  model = await loadHfModel(MODEL);
  model.setTrainable(false);
  tokenizer = await loadTokenizer(MODEL);
  records = await readJsonl<WildChatRecord>(path.join(LOGS, 'deployment.jsonl'));
  labels = await readJsonl<GroundTruthLabel>(path.join(TRUTH, 'labels.jsonl'));
  answers = await readJsonl<GroundTruthAnswer>(path.join(TRUTH, 'answers.jsonl'));
  // The whole folder, as the demo imports it.
  imported = await importFile(LOGS);
}, 180_000);

afterAll(async () => {
  model?.dispose();
  await removeTempFolders();
});

describe('the demo base model', () => {
  it('is a small model with its tokenizer and ChatML template', () => {
    expect(countParameters(model)).toBeLessThanOrEqual(3_000_000);
    expect(tokenizer.chatTemplate).toContain('<|im_start|>');
    expect(tokenizer.specialTokens.eos?.content).toBe('<|im_end|>');
  });

  it('is clearly imperfect on held-out prompts (greedy)', async () => {
    const rate = await heldOutSuccessRate(model, tokenizer, heldOutTasks(128, 7), { temperature: 0 });
    console.log(`demo base model, greedy, 128 held-out prompts: ${(rate.rate * 100).toFixed(1)}% right`);
    expect(rate.rate).toBeGreaterThan(0.2);
    expect(rate.rate).toBeLessThan(0.75);
  }, 120_000);
});

describe('the demo deployment logs', () => {
  it('import as WildChat, every conversation', () => {
    expect(imported.result.format).toBe('wildchat');
    expect(imported.result.conversations).toBe(records.length);
    expect(imported.result.rejected).toBe(0);
  });

  it('have ground truth that lines up with the conversations', () => {
    const byHash = new Map(records.map((record) => [record.conversation_hash, record.conversation]));
    for (const label of labels) {
      const conversation = byHash.get(label.conversation_hash);
      expect(conversation?.[label.turn]?.role).toBe('user');
      expect(conversation?.[label.judged_turn]?.role).toBe('assistant');
    }
    for (const answer of answers) expect(byHash.get(answer.conversation_hash)?.[answer.turn]?.role).toBe('assistant');
    expect(answers.every((answer) => answer.split === 'train')).toBe(true);
    const right = answers.filter((answer) => answer.success).length / answers.length;
    expect(right).toBeGreaterThan(0.15);
    expect(right).toBeLessThan(0.8);
    expect(labels.filter((label) => label.polarity === 'dsat').length).toBeGreaterThan(200);
  });

  it('hold reactions the rules detector reads with the right polarity', () => {
    const { agreement } = rulesAgreement(imported.conversations, labels);
    console.log(`rules vs simulated users on the demo logs: ${describeAgreement(agreement)}`);
    expect(agreement.turns).toBe(labels.length);
    const { sat, dsat } = agreement.polarity;
    expect(dsat.precision).toBeGreaterThan(0.9);
    expect(dsat.recall).toBeGreaterThan(0.6);
    expect(sat.precision).toBeGreaterThan(0.9);
    expect(sat.recall).toBeGreaterThan(0.6);
    expect(agreement.kappa).toBeGreaterThan(0.5);
  });
});

/**
 * The simulated users' reactions as the workbench sees them: conversations written as WildChat
 * records are detected and imported as `wildchat` by the real import job, and the rules detector
 * (the signal miner's default) reads the users' SAT and DSAT turns with the polarity they were
 * written with. The agreement is measured turn by turn against the ground truth and must stay
 * above a threshold; the figures are printed.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, DetectorAgreement } from '../../../src-main/api/index.js';
import type { ImportResult } from '../../../src-main/engine/data/index.js';
import type { GroundTruthLabel, SimulatedConversation, WildChatRecord } from '../../../src-main/engine/sim/index.js';
import { simulate, toWildChat } from '../../../src-main/engine/sim/index.js';
import {
  describeAgreement,
  flawedPolicy,
  importFile,
  removeTempFolders,
  rulesAgreement,
  tempFolder,
  writeJsonl,
} from './helpers.js';

const COUNT = 400;
const SEED = 11;

let simulated: SimulatedConversation[];
let records: WildChatRecord[];
let labels: GroundTruthLabel[];
let imported: { result: ImportResult; conversations: Conversation[] };
let measured: { agreement: DetectorAgreement; matched: number };

beforeAll(async () => {
  simulated = await simulate(flawedPolicy(SEED), { count: COUNT, seed: SEED });
  const converted = simulated.map((conversation) => toWildChat(conversation, { model: 'test-policy', seed: SEED }));
  records = converted.map((entry) => entry.record);
  labels = converted.flatMap((entry) => entry.labels);
  const file = path.join(await tempFolder(), 'deployment.jsonl');
  await writeJsonl(file, records);
  imported = await importFile(file);
  measured = rulesAgreement(imported.conversations, labels);
}, 120_000);

afterAll(removeTempFolders);

describe('simulated logs through the importer', () => {
  it('are detected as WildChat and imported whole, turn for turn', () => {
    expect(imported.result.format).toBe('wildchat');
    expect(imported.result.conversations).toBe(COUNT);
    expect(imported.result.rejected).toBe(0);
    const byHash = new Map(
      imported.conversations.map((conversation) => [conversation.metadata['conversation_hash'], conversation]),
    );
    for (const [index, record] of records.entries()) {
      const conversation = byHash.get(record.conversation_hash);
      expect(conversation?.messages.map(({ role, content }) => ({ role, content }))).toEqual(
        simulated[index]?.messages,
      );
    }
  });

  it('carry a label for every user turn that follows an answer, pointing at that answer', () => {
    const byHash = new Map(records.map((record) => [record.conversation_hash, record]));
    for (const label of labels) {
      const conversation = byHash.get(label.conversation_hash)?.conversation ?? [];
      expect(conversation[label.turn]?.role).toBe('user');
      expect(label.judged_turn).toBe(label.turn - 1);
      expect(conversation[label.judged_turn]?.role).toBe('assistant');
      if (label.polarity === 'dsat') expect(label.judged_success === false || label.task_kind === null).toBe(true);
    }
    const reacting = records.reduce(
      (sum, record) => sum + record.conversation.filter((turn, index) => turn.role === 'user' && index > 0).length,
      0,
    );
    expect(labels).toHaveLength(reacting);
    expect(labels.filter((label) => label.polarity === 'dsat').length).toBeGreaterThan(100);
    expect(labels.filter((label) => label.polarity === 'sat').length).toBeGreaterThan(100);
  });
});

describe('the rules detector on the simulated users', () => {
  it('reads DSAT and SAT turns with the polarity they were written with', () => {
    const { agreement, matched } = measured;
    console.log(`rules vs simulated users (${COUNT} conversations, flawed policy): ${describeAgreement(agreement)}`);
    expect(matched).toBe(new Set(labels.map((label) => label.conversation_hash)).size);
    expect(agreement.turns).toBe(labels.length);
    // Measured with seed 11: DSAT precision 0.96, recall 0.67; SAT precision 0.97, recall 0.67; kappa 0.60.
    // The misses are the detector's (typos, "Nope, 43 is wrong.", "OK, makes sense.", short rephrasings,
    // languages with thin lexicons); what it does name, it names with the right polarity.
    const { sat, dsat } = agreement.polarity;
    expect(dsat.precision).toBeGreaterThan(0.9);
    expect(dsat.recall).toBeGreaterThan(0.6);
    expect(sat.precision).toBeGreaterThan(0.9);
    expect(sat.recall).toBeGreaterThan(0.6);
    expect(agreement.kappa).toBeGreaterThan(0.5);
  });
});

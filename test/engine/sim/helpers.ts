/**
 * Shared pieces of the simulation tests: a policy that errs the way a small model does, the import
 * of WildChat records through the real `dataset.import` job, and the agreement of the rules
 * detector with the simulated users' ground truth.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Conversation, DetectorAgreement, Signal } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { ImportResult } from '../../../src-main/engine/data/index.js';
import { importDataset } from '../../../src-main/engine/data/index.js';
import type { JobContext } from '../../../src-main/engine/jobs/types.js';
import { AgreementCounter } from '../../../src-main/engine/signals/agreement.js';
import { RulesDetector } from '../../../src-main/engine/signals/rules/detector.js';
import type { GroundTruthLabel, Policy } from '../../../src-main/engine/sim/index.js';
import { correctingOraclePolicy } from '../../../src-main/engine/sim/index.js';

const folders: string[] = [];

export async function tempFolder(prefix = 'drift-sim-'): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

export async function removeTempFolders(): Promise<void> {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

/** The oracle, wrong on about `errorRate` of the answers to tasks, retries included (never on chat). */
export function flawedPolicy(seed: number, errorRate = 0.45): Policy {
  return correctingOraclePolicy(seed, errorRate, { onRetries: true });
}

function context(workspaceDir: string): JobContext {
  return {
    jobId: 'sim-test',
    workspaceDir,
    backend: { name: 'cpu', tfjsVersion: tf.version.tfjs, gpu: false, threads: 1, attempts: [], shims: [] },
    signal: new AbortController().signal,
    progress: () => undefined,
    throwIfCancelled: () => undefined,
    output: () => undefined,
  };
}

/** Imports a JSONL file or a folder of them with the `dataset.import` job (format detected) and reads the conversations back. */
export async function importFile(file: string): Promise<{ result: ImportResult; conversations: Conversation[] }> {
  const workspace = await tempFolder('drift-sim-ws-');
  const result = (await importDataset({ paths: [file] }, context(workspace))) as ImportResult;
  const text = await readFile(path.join(workspace, 'datasets', result.datasetId, 'conversations.jsonl'), 'utf8');
  const conversations = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Conversation);
  return { result, conversations };
}

export async function writeJsonl(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}

/** The rules detector's agreement with the ground-truth labels, turn by turn, on imported conversations. */
export function rulesAgreement(
  conversations: readonly Conversation[],
  labels: readonly GroundTruthLabel[],
): { agreement: DetectorAgreement; matched: number } {
  const byHash = new Map<string, GroundTruthLabel[]>();
  for (const label of labels) {
    const list = byHash.get(label.conversation_hash) ?? [];
    list.push(label);
    byHash.set(label.conversation_hash, list);
  }
  const detector = new RulesDetector();
  const counter = new AgreementCounter('rules');
  let matched = 0;
  for (const conversation of conversations) {
    const hash = conversation.metadata['conversation_hash'];
    const truth = typeof hash === 'string' ? byHash.get(hash) : undefined;
    if (!truth) continue;
    matched++;
    const predicted = new Map(detector.detect(conversation).map((signal) => [signal.turn, signal]));
    for (const label of truth) {
      const signal: Signal = {
        conversationId: conversation.id,
        turn: label.turn,
        judgedTurn: label.judged_turn,
        polarity: label.polarity,
        categories: label.categories,
        confidence: 1,
        detector: 'labels',
        evidence: [],
      };
      counter.add(signal, predicted.get(label.turn));
    }
  }
  return { agreement: counter.result(), matched };
}

/** One line of figures for the test log. */
export function describeAgreement(agreement: DetectorAgreement): string {
  const figure = (value: number | null) => (value === null ? 'n/a' : value.toFixed(3));
  const { sat, dsat } = agreement.polarity;
  return (
    `turns ${agreement.turns}; polarity accuracy ${figure(agreement.accuracy)}, kappa ${figure(agreement.kappa)}; ` +
    `DSAT precision ${figure(dsat.precision)} recall ${figure(dsat.recall)} kappa ${figure(dsat.kappa)}; ` +
    `SAT precision ${figure(sat.precision)} recall ${figure(sat.recall)} kappa ${figure(sat.kappa)}`
  );
}

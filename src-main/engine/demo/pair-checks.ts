/**
 * The simulator's checker applied to the preference pairs a demo run trained on. The demo's logs
 * come with ground truth (resources/demo/ground-truth/answers.jsonl: every deployed answer's
 * task), so each pair's chosen (y⁺) and rejected (y⁻) answer can be checked against the task of
 * the answer the user was unhappy with. DRIFT can only improve the policy through pairs whose y⁺
 * is right where y⁻ is wrong (the paper's "improvement event"); these counts say how often the
 * policy produces one, per phase.
 */
import path from 'node:path';
import type { EvaluationResult, PairSetEntry } from '../../api/index.js';
import { CONVERSATIONS_FILE } from '../data/import.js';
import { readPairSet } from '../curation/pairsets.js';
import { readPairRows } from '../runs/files.js';
import { readJsonlLines } from '../signals/jsonl.js';
import { checkAnswer, failsOnFormAlone, type Task } from '../sim/index.js';
import { datasetDir, runDir } from '../workspace/layout.js';

/** One phase of a run: its pairs, and how many of each side the checker accepts. */
export interface PairCheck {
  iteration: number;
  pairs: number;
  /** Pairs whose task the ground truth knows (the others are left out of the counts below). */
  checked: number;
  chosenRight: number;
  rejectedRight: number;
  /** Chosen right and rejected wrong. */
  improvements: number;
  /**
   * Pairs whose rejected answer failed on its form alone (the content right, but a sentence where
   * the answer alone was asked for, another list format, too long): the failures feedback can fix.
   */
  formFailures: number;
  /** Of those, the pairs whose chosen answer is right. */
  formImprovements: number;
}

/**
 * Per checkpoint of an evaluation on the simulator's held-out `tasks` (the evaluation's prompts, in
 * order): how many samples fail on their form alone. Null when the prompts are not those tasks.
 */
export function formFailuresByCheckpoint(
  result: Pick<EvaluationResult, 'prompts' | 'checkpoints'>,
  tasks: readonly Task[],
): Record<string, number> | null {
  const matches =
    result.prompts.length === tasks.length &&
    result.prompts.every((prompt, index) => prompt.at(-1)?.content === tasks[index]?.prompt);
  if (!matches) return null;
  const counts: Record<string, number> = {};
  for (const checkpoint of result.checkpoints) {
    counts[checkpoint.label] = checkpoint.samples.filter((sample) => {
      const task = tasks[sample.prompt];
      return task !== undefined && failsOnFormAlone(checkAnswer(task, sample.text));
    }).length;
  }
  return counts;
}

async function* jsonLines(file: string): AsyncGenerator<unknown> {
  for await (const line of readJsonlLines(file)) yield JSON.parse(line.text) as unknown;
}

interface PairSource {
  conversationId: string;
  turn: number;
}

/** The ground truth's tasks by `<conversation_hash>:<turn>` of the answer they were asked for. */
export async function readGroundTruthTasks(resourcesDir: string): Promise<Map<string, Task>> {
  const tasks = new Map<string, Task>();
  const file = path.join(resourcesDir, 'ground-truth', 'answers.jsonl');
  for await (const row of jsonLines(file)) {
    const answer = row as { conversation_hash?: string; turn?: number; task?: Task };
    if (answer.task && answer.conversation_hash && answer.turn !== undefined) {
      tasks.set(`${answer.conversation_hash}:${answer.turn}`, answer.task);
    }
  }
  return tasks;
}

/**
 * The checker's counts for every phase of `runIds`' runs, which trained on `pairSet` (a pair set
 * of `datasetId`, imported from the demo's logs). Phases whose pairs are not on disk are skipped.
 */
export async function checkRunPairs(options: {
  workspaceDir: string;
  resourcesDir: string;
  datasetId: string;
  pairSet: PairSetEntry;
  runs: { runId: string; phases: number }[];
}): Promise<Record<string, PairCheck[]>> {
  const tasks = await readGroundTruthTasks(options.resourcesDir);
  const hashes = new Map<string, string>();
  for await (const row of jsonLines(
    path.join(datasetDir(options.workspaceDir, options.datasetId), CONVERSATIONS_FILE),
  )) {
    const conversation = row as { id: string; metadata?: { conversation_hash?: unknown } };
    const hash = conversation.metadata?.conversation_hash;
    if (typeof hash === 'string') hashes.set(conversation.id, hash);
  }
  const sources = new Map<string, PairSource>();
  for await (const pair of readPairSet(options.workspaceDir, options.pairSet)) {
    sources.set(pair.id, { conversationId: pair.conversationId, turn: pair.rejected.turn });
  }
  const taskOf = (sourceId: string): Task | undefined => {
    const source = sources.get(sourceId);
    const hash = source && hashes.get(source.conversationId);
    return hash === undefined || source === undefined ? undefined : tasks.get(`${hash}:${source.turn}`);
  };

  const checks: Record<string, PairCheck[]> = {};
  for (const { runId, phases } of options.runs) {
    const folder = runDir(options.workspaceDir, runId);
    const rows: PairCheck[] = [];
    for (let iteration = 0; iteration < phases; iteration++) {
      const pairs = await readPairRows(folder, iteration);
      if (pairs.length === 0) continue;
      const check: PairCheck = {
        iteration,
        pairs: pairs.length,
        checked: 0,
        chosenRight: 0,
        rejectedRight: 0,
        improvements: 0,
        formFailures: 0,
        formImprovements: 0,
      };
      for (const pair of pairs) {
        const task = taskOf(pair.sourceId);
        if (task === undefined) continue;
        check.checked++;
        const chosen = checkAnswer(task, pair.chosen.at(-1)?.content ?? '').success;
        const verdict = checkAnswer(task, pair.rejected.at(-1)?.content ?? '');
        const rejected = verdict.success;
        if (chosen) check.chosenRight++;
        if (rejected) check.rejectedRight++;
        if (chosen && !rejected) check.improvements++;
        if (failsOnFormAlone(verdict)) {
          check.formFailures++;
          if (chosen) check.formImprovements++;
        }
      }
      rows.push(check);
    }
    checks[runId] = rows;
  }
  return checks;
}

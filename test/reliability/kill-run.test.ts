/**
 * SIGKILL during a preference run: a child process works on a tiny DRIFT run (seed warm start and
 * two iterations, 24 optimizer steps, a checkpoint every 2) through a `run.train` job and is killed at a random
 * moment, KILLS times (RELIABILITY_KILLS; 8 by default, 30 in docs/RELIABILITY.md); each child
 * resumes the run the last one left (a run the child finishes is followed by a new one). After
 * every kill a fresh engine opens the workspace and finds the run paused, not running, with a
 * metrics.jsonl whose steps are not repeated. At the end every run is resumed to its end in a
 * fresh engine and must equal a run trained without interruption: the same metrics rows (less
 * wall-clock fields), samples, pairs and summaries, byte-identical phase weights, and no staging
 * or temp file left anywhere in the workspace.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, RunDetail, RunJobOutput, RunMetricRow, type RunEntry } from '../../src-main/api/index.js';
import { browserHandlers } from '../../src-main/server/index.js';
import { openEngine, type Engine } from '../../src-main/engine/index.js';
import { removeWorkspaces, runWorkspace } from '../engine/runs/helpers.js';
import { useBackend } from '../engine/model/helpers.js';
import { runConfig } from './fixtures/run-trainer.js';
import { KILLS, killDelays, runAndKill } from './helpers.js';

const trainer = fileURLToPath(new URL('./fixtures/run-trainer.ts', import.meta.url));
const ITERATIONS = [0, 1, 2];

beforeAll(() => useBackend('cpu'));
afterAll(removeWorkspaces);

/** A channel's answer, checked against the contract; throws with the error's code otherwise. */
async function call(
  engine: Engine,
  channel: 'run:get' | 'run:list' | 'model:list',
  request: unknown,
): Promise<unknown> {
  const result = await dispatch(browserHandlers(engine.handlers), channel, request, { validateResponses: true });
  if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  return result.value;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** The lines of a JSONL file; a torn last line (a kill mid-append) is returned apart. */
async function jsonLines(file: string): Promise<{ rows: Record<string, unknown>[]; torn: string | null }> {
  if (!(await exists(file))) return { rows: [], torn: null };
  const lines = (await readFile(file, 'utf8')).split('\n');
  const last = lines.pop() ?? '';
  const rows = lines.filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { rows, torn: last === '' ? null : last };
}

/** Train steps and eval iterations of metrics.jsonl, each seen once. */
function expectNoRepeatedSteps(rows: readonly Record<string, unknown>[], where: string): void {
  const parsed = rows.map((row) => RunMetricRow.parse(row));
  const steps = parsed.filter((row) => row.type === 'train').map((row) => row.step);
  expect(new Set(steps).size, `${where}: repeated train steps ${steps.join(',')}`).toBe(steps.length);
  expect(steps, `${where}: train steps out of order`).toEqual([...steps].sort((a, b) => a - b));
  const evals = parsed.filter((row) => row.type === 'eval').map((row) => row.iteration);
  expect(new Set(evals).size, `${where}: repeated eval rows`).toBe(evals.length);
}

/** Every staging folder, retired folder or temp file under `folder`. */
async function leftovers(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (/^\.|\.tmp$|staging|retired/.test(entry.name)) found.push(path.join(entry.parentPath, entry.name));
  }
  // The outermost ones (not the files inside a staging folder).
  return found.filter((file) => !found.some((other) => file.startsWith(`${other}${path.sep}`)));
}

describe('SIGKILL during a preference run', () => {
  it(
    `resumes a run killed ${KILLS} times into the rows and weights of an uninterrupted one`,
    async () => {
      const workspace = await runWorkspace();
      const runFolder = (runId: string) => path.join(workspace, 'runs', runId);
      const started = Date.now();

      let runMs = 0;
      const first = await openEngine({ workspaceDir: workspace, host: 'cli' });
      try {
        let runStarted = 0;
        const off = first.on('job:output', ({ data }) => {
          if (RunJobOutput.safeParse(data).data?.type === 'run-started') runStarted = Date.now();
        });
        const reference = await first.runJob('run.train', { config: runConfig(), runId: 'reference' });
        off();
        expect(reference.status, JSON.stringify(reference.error)).toBe('succeeded');
        // Kills land up to 10% past the run's length on this machine now (a child takes as long).
        runMs = Date.now() - runStarted;
      } finally {
        await first.close();
      }

      const runIds = ['killed-1'];
      /** Where the kills landed, by the child's last line: before its first step, after a step, after a phase, after the end. */
      const landed = { ready: 0, step: 0, phase: 0, finished: 0 };
      let tornLines = 0;
      /** Staging folders and temp files the kills left (the resumes must remove them all). */
      const killLeftovers = new Set<string>();
      for (const permille of killDelays(KILLS, 0, 1100, 4)) {
        const delayMs = Math.round((permille / 1000) * runMs);
        const runId = runIds.at(-1)!;
        const { lines, stderr } = await runAndKill(trainer, [workspace, runId], delayMs);
        // tfjs prints a hint about tfjs-node on stderr; anything else is an error.
        expect(stderr.replace(/={10,}[\s\S]*?={10,}/g, '').trim()).toBe('');
        landed[(lines.at(-1)?.split(' ')[0] ?? 'ready') as keyof typeof landed]++;

        const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
        try {
          const detail = RunDetail.parse(await call(engine, 'run:get', { id: runId }));
          const listed = ((await call(engine, 'run:list', {})) as RunEntry[]).find((run) => run.id === runId);
          if (detail.status === 'succeeded') {
            // Killed after the run ended (perhaps before the child said so): the next child starts another.
            expect(listed?.status).toBe('succeeded');
            runIds.push(`killed-${runIds.length + 1}`);
          } else {
            expect(detail.status, `${runId} after a kill ${delayMs} ms into the run`).toBe('paused');
            expect(detail.jobId).toBeNull();
            expect(listed).toMatchObject({ status: 'paused', jobId: null });
          }
          const metrics = await jsonLines(path.join(runFolder(runId), 'metrics.jsonl'));
          if (metrics.torn !== null) tornLines++;
          expectNoRepeatedSteps(metrics.rows, `${runId} after a kill`);
          for (const folder of ['runs', 'models']) {
            for (const file of await leftovers(path.join(workspace, folder))) killLeftovers.add(file);
          }
        } finally {
          await engine.close();
        }
      }

      // Every run resumed to its end in a fresh engine (a run a kill left unstarted is started).
      const last = await openEngine({ workspaceDir: workspace, host: 'cli' });
      try {
        for (const runId of runIds) {
          const detail = (await exists(path.join(runFolder(runId), 'run.json')))
            ? RunDetail.parse(await call(last, 'run:get', { id: runId }))
            : null;
          if (detail?.status === 'succeeded') continue;
          const params = detail === null ? { config: runConfig(), runId } : { runId, resume: true };
          const job = await last.runJob('run.train', params);
          expect(job.status, `${runId}: ${JSON.stringify(job.error)}`).toBe('succeeded');
        }
        // The catalog lists every run ended, with the models of its three phases registered.
        const listed = (await call(last, 'run:list', {})) as RunEntry[];
        const models = ((await call(last, 'model:list', {})) as { id: string }[]).map((model) => model.id);
        for (const runId of runIds) {
          const entry = listed.find((run) => run.id === runId);
          expect(entry, runId).toMatchObject({ status: 'succeeded', jobId: null, iterationsDone: 2 });
          expect(entry?.modelIds, runId).toHaveLength(ITERATIONS.length);
          for (const id of entry?.modelIds ?? []) expect(models, runId).toContain(id);
        }
      } finally {
        await last.close();
      }

      const metricsOf = async (runId: string) => {
        const { rows, torn } = await jsonLines(path.join(runFolder(runId), 'metrics.jsonl'));
        expect(torn, `${runId}: torn last line`).toBeNull();
        expectNoRepeatedSteps(rows, runId);
        return rows.map(({ seconds: _seconds, time: _time, ...row }) => row);
      };
      const rowsOf = async (runId: string, file: string) => {
        const { rows, torn } = await jsonLines(path.join(runFolder(runId), file));
        expect(torn, `${runId}/${file}: torn last line`).toBeNull();
        return rows;
      };
      const summaries = async (runId: string) =>
        RunDetail.parse(JSON.parse(await readFile(path.join(runFolder(runId), 'run.json'), 'utf8'))).iterations.map(
          ({ finishedAt: _at, modelId: _id, ...summary }) => summary,
        );
      const weights = (runId: string, iteration: number) =>
        readFile(path.join(runFolder(runId), `iter-${iteration}`, 'model', 'model.safetensors'));

      const referenceMetrics = await metricsOf('reference');
      expect(referenceMetrics.length).toBeGreaterThan(0);
      for (const runId of runIds) {
        expect(await metricsOf(runId), runId).toEqual(referenceMetrics);
        for (const file of ['samples.jsonl', ...ITERATIONS.map((iteration) => `iter-${iteration}/pairs.jsonl`)]) {
          expect(await rowsOf(runId, file), `${runId}/${file}`).toEqual(await rowsOf('reference', file));
        }
        expect(await summaries(runId), runId).toEqual(await summaries('reference'));
        for (const iteration of ITERATIONS) {
          const same = Buffer.compare(await weights(runId, iteration), await weights('reference', iteration));
          expect(same, `${runId} iteration ${iteration} weights`).toBe(0);
        }
        expect(await exists(path.join(runFolder(runId), 'stop-request.json'))).toBe(false);
      }
      for (const folder of ['runs', 'models']) {
        expect(await leftovers(path.join(workspace, folder)), folder).toEqual([]);
      }

      // Each kind once: digits and random suffixes as '*'.
      const leftoverKinds = new Set(
        [...killLeftovers].map((file) =>
          path.relative(path.join(workspace, 'runs'), file).replace(/killed-\d+|[0-9a-f]{8,}|\d+/g, '*'),
        ),
      );
      console.info(
        `run kills: ${KILLS} kills (${landed.ready} before the first step, ${landed.step} after a step, ` +
          `${landed.phase} after a phase, ${landed.finished} after the end), ${runIds.length} runs, ` +
          `${tornLines} torn metrics lines, ${killLeftovers.size} staging/temp leftovers removed ` +
          `(${[...leftoverKinds].join(', ')}), all resumed identical to the uninterrupted run (${runMs} ms long); ${Date.now() - started} ms`,
      );
    },
    120_000 + KILLS * 15_000,
  );
});

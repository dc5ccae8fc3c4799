/**
 * Soak (issue 11, not part of `npm test` and not run by a plain `npm run bench`): DRIFT on the
 * embedded demo for a long while, with tfjs's live tensors and the process's memory sampled, to show
 * that neither grows.
 *
 *   npm run bench -- --only soak                           # 30 minutes
 *   npm run bench -- --only soak -- --minutes 10 --every 30
 *   node --import tsx bench/soak.ts [--minutes 30] [--every 60] [--iterations 20] [--records 80]
 *                                   [--poll 5] [--json] [--keep]
 *
 * The demo workspace is prepared in a temporary folder through the engine (prepareDemoWorkspace:
 * the committed logs and base model imported, signals mined, the `demo` pair set frozen). DRIFT
 * then runs in this thread, not in a job worker, so that tf.memory() sees its tensors: the
 * `run.train` job handler (runs/job.ts) is called with a job context like the worker's, one run
 * after another (a seed phase and `--iterations` DRIFT iterations on `--records` pairs each, a
 * checkpoint every 5 steps), each finished run's folders removed, until `--minutes` have passed
 * (the run in progress is then cancelled, as job:cancel would). Meanwhile the engine's run:metrics
 * and run:samples channels read the live run every `--poll` seconds, as the Runs view does.
 *
 * Samples: every `--every` seconds (the timer; the phase is whatever the run was doing) and at
 * every phase boundary (`phase-finished`: the phase's policy and its optimizer's slots are live,
 * the same tensors every phase) and after each run (nothing of a run should be left). Each has
 * tf.memory()'s numTensors and numBytes, process.memoryUsage()'s rss and heapUsed (after a full
 * garbage collection), and the count of active libuv handles and requests.
 *
 * The reference is the first sample of each kind (ratios last/first; for the timer's, the first
 * taken during the first run, as wasm's memory grows to its high-water mark in the first phases:
 * WebAssembly.Memory cannot shrink). Flat means: the tensor count at phase boundaries varies by at
 * most TENSOR_TOLERANCE over the whole soak, every run leaves the tensor count where it was before
 * the first run, and the timer samples' RSS grows less than 10% over the second half (least-squares
 * line through them, its rise over its start). The exit status is 0 when flat, 1 when not.
 */
import { rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AppFailure, RunJobOutput, type RunConfigInput } from '../src-main/api/index.js';
import { selectBackend } from '../src-main/engine/backend.js';
import { tf } from '../src-main/engine/compute/tf.js';
import { QUICK_PLAN, demoRunConfig } from '../src-main/engine/demo/pipeline.js';
import { openEngine, prepareDemoWorkspace } from '../src-main/engine/index.js';
import type { JobContext } from '../src-main/engine/jobs/types.js';
import { trainRun } from '../src-main/engine/runs/job.js';
import { modelDir, runDir } from '../src-main/engine/workspace/layout.js';
import { numberOption } from './options.js';

/** How much the tensor count at phase boundaries may vary and still count as flat. */
const TENSOR_TOLERANCE = 2;
/** The largest RSS growth over the second half that counts as flat. */
const RSS_GROWTH_LIMIT = 0.1;

const minutes = numberOption('--minutes', 30);
const every = numberOption('--every', 60);
const iterations = Math.min(20, Math.round(numberOption('--iterations', 20)));
const records = Math.round(numberOption('--records', QUICK_PLAN.maxRecords));
const poll = numberOption('--poll', 5);
const json = process.argv.includes('--json');
const keep = process.argv.includes('--keep');

/** Progress and the table go to stderr; --json adds the summary and every sample on stdout. */
const log = (line: string) => process.stderr.write(`${line}\n`);

// A full collection before each sample, so heapUsed is the live heap rather than the collector's timing.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

type SampleKind = 'start' | 'timer' | 'phase-end' | 'run-end' | 'end';

interface Sample {
  kind: SampleKind;
  /** Seconds since the soak started. */
  t: number;
  run: number;
  /** The job's progress phase when sampled ("iteration 3: train"), or the boundary. */
  phase: string;
  numTensors: number;
  numBytes: number;
  rssMb: number;
  heapUsedMb: number;
  /** Node's memory outside the JS heap (Buffers, ArrayBuffers). */
  externalMb: number;
  /** The wasm backend's linear memory (it grows and never shrinks); 0 on other backends. */
  wasmMemoryMb: number;
  handles: number;
}

/** The wasm backend's linear memory in bytes, or 0 when the backend is not wasm. */
function wasmMemoryBytes(): number {
  const backend = tf.backend() as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

const MB = 1024 * 1024;
let started = performance.now();
const samples: Sample[] = [];
let runIndex = 0;
let phase = 'preparing';

function sample(kind: SampleKind, label = phase): Sample {
  collect();
  const memory = tf.memory();
  const usage = process.memoryUsage();
  const taken: Sample = {
    kind,
    t: (performance.now() - started) / 1000,
    run: runIndex,
    phase: label,
    numTensors: memory.numTensors,
    numBytes: memory.numBytes,
    rssMb: usage.rss / MB,
    heapUsedMb: usage.heapUsed / MB,
    externalMb: usage.external / MB,
    wasmMemoryMb: wasmMemoryBytes() / MB,
    handles: process.getActiveResourcesInfo().length,
  };
  samples.push(taken);
  log(
    `  ${formatTime(taken.t)} ${kind.padEnd(9)} run ${taken.run} ${taken.phase.padEnd(26)} tensors ${taken.numTensors} ` +
      `(${(taken.numBytes / MB).toFixed(1)} MB)  rss ${taken.rssMb.toFixed(0)} MB  heap ${taken.heapUsedMb.toFixed(0)} MB` +
      `  wasm ${taken.wasmMemoryMb.toFixed(0)} MB  external ${taken.externalMb.toFixed(0)} MB`,
  );
  return taken;
}

function formatTime(seconds: number): string {
  const whole = Math.round(seconds);
  return `${String(Math.floor(whole / 60)).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
}

/** The least-squares line through the points: its slope and its value at x. */
function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; at: (x: number) => number } | null {
  const count = xs.length;
  if (count < 2) return null;
  const meanX = xs.reduce((sum, x) => sum + x, 0) / count;
  const meanY = ys.reduce((sum, y) => sum + y, 0) / count;
  let covariance = 0;
  let variance = 0;
  xs.forEach((x, index) => {
    covariance += (x - meanX) * ((ys[index] as number) - meanY);
    variance += (x - meanX) ** 2;
  });
  const slope = variance === 0 ? 0 : covariance / variance;
  return { slope, at: (x) => meanY + slope * (x - meanX) };
}

function spread(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.max(...values) - Math.min(...values);
}

/** A job context as the worker builds it, with the deadline's controller behind its signal. */
function soakContext(workspaceDir: string, controller: AbortController, runIds: string[]): JobContext {
  return {
    jobId: `soak-${runIndex}`,
    workspaceDir,
    backend,
    signal: controller.signal,
    progress: (label) => {
      phase = label;
    },
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new AppFailure('job_cancelled');
    },
    output: (data) => {
      const output = RunJobOutput.parse(data);
      if (output.type === 'run-started') runIds.push(output.runId);
      if (output.type === 'phase-finished')
        sample('phase-end', output.iteration === 0 ? 'seed' : `iteration ${output.iteration}`);
    },
  };
}

const backend = await selectBackend('auto');
const workspace = await mkdtemp(path.join(os.tmpdir(), 'drift-soak-'));
log(`soak: ${minutes} min on ${backend.name} (${backend.threads} threads), a sample every ${every} s; ${workspace}`);
const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
let completedRuns = 0;
let phasesFinished = 0;
try {
  const prepared = await prepareDemoWorkspace(engine, { onStep: (step) => log(`  prepare: ${step.title}`) });
  const plan = { ...QUICK_PLAN, iterations, maxRecords: records };
  started = performance.now();
  const deadline = new AbortController();
  const ends = started + minutes * 60_000;
  const timer = setInterval(() => sample('timer'), every * 1000);
  const stop = setTimeout(() => deadline.abort(new AppFailure('job_cancelled')), minutes * 60_000);
  sample('start', 'before the first run');

  while (!deadline.signal.aborted && performance.now() < ends) {
    runIndex++;
    const runIds: string[] = [];
    const config: RunConfigInput = {
      ...demoRunConfig('drift', 41 + runIndex, plan, prepared.baseModelId, prepared.pairSet.id),
      name: `soak-${runIndex}`,
      checkpointEvery: 5,
    };
    // The Runs view's polling of a live run, through the engine's channels.
    const polling = setInterval(() => {
      const id = runIds[0];
      if (id === undefined) return;
      void Promise.all([
        engine.handlers['run:metrics']({ id, after: 0, limit: 2000 }),
        engine.handlers['run:samples']({ id, offset: 0, limit: 100 }),
      ]).catch(() => undefined);
    }, poll * 1000);
    let modelIds: string[] = [];
    try {
      const result = (await trainRun({ config }, soakContext(workspace, deadline, runIds))) as { modelIds: string[] };
      modelIds = result.modelIds;
      completedRuns++;
    } catch (error) {
      if (!(error instanceof AppFailure && error.code === 'job_cancelled')) throw error;
    } finally {
      clearInterval(polling);
    }
    phasesFinished += samples.filter((item) => item.kind === 'phase-end' && item.run === runIndex).length;
    sample('run-end', deadline.signal.aborted ? 'cancelled at the deadline' : 'after the run');
    for (const id of runIds) await rm(runDir(workspace, id), { recursive: true, force: true });
    for (const id of modelIds) await rm(modelDir(workspace, id), { recursive: true, force: true });
  }
  clearInterval(timer);
  clearTimeout(stop);
  sample('end', 'after the soak');
} finally {
  await engine.close();
  if (!keep) await rm(workspace, { recursive: true, force: true });
}

const total = (performance.now() - started) / 1000;
const of = (kind: SampleKind) => samples.filter((item) => item.kind === kind);
const before = samples[0] as Sample;
// The reference: the first timer sample (the first run under way; before it, wasm's memory has not grown yet).
const timers = of('timer');
const phaseEnds = of('phase-end');
const emptied = [...of('run-end'), ...of('end')];
const secondHalf = timers.filter((item) => item.t >= total / 2);

interface Row {
  label: string;
  first: number | null;
  last: number | null;
  lastOverFirst: number | null;
  maxMinusMin: number | null;
  /** The least-squares slope over the second half, per minute. */
  secondHalfSlope: number | null;
}

function row(label: string, points: readonly Sample[], value: (item: Sample) => number): Row {
  const first = points[0];
  const last = points.at(-1);
  const late = points.filter((item) => item.t >= total / 2);
  const line = fitLine(
    late.map((item) => item.t / 60),
    late.map(value),
  );
  return {
    label,
    first: first ? value(first) : null,
    last: last ? value(last) : null,
    lastOverFirst: first && last && value(first) !== 0 ? value(last) / value(first) : null,
    maxMinusMin: spread(points.map(value)),
    secondHalfSlope: line?.slope ?? null,
  };
}

const rows = [
  row('tensors at phase ends', phaseEnds, (item) => item.numTensors),
  row('tensor MB at phase ends', phaseEnds, (item) => item.numBytes / MB),
  row('tensors after each run', emptied, (item) => item.numTensors),
  row('RSS MB (timer)', timers, (item) => item.rssMb),
  row('heapUsed MB (timer)', timers, (item) => item.heapUsedMb),
  row('wasm memory MB (timer)', timers, (item) => item.wasmMemoryMb),
  row('external MB (timer)', timers, (item) => item.externalMb),
  row('handles (timer)', timers, (item) => item.handles),
];
const rssLine = fitLine(
  secondHalf.map((item) => item.t / 60),
  secondHalf.map((item) => item.rssMb),
);
const halfStart = secondHalf[0];
const halfEnd = secondHalf.at(-1);
const rssGrowth =
  rssLine && halfStart && halfEnd
    ? (rssLine.at(halfEnd.t / 60) - rssLine.at(halfStart.t / 60)) / rssLine.at(halfStart.t / 60)
    : null;
const phaseEndSpread = spread(phaseEnds.map((item) => item.numTensors));
const leftOver = Math.max(0, ...emptied.map((item) => Math.abs(item.numTensors - before.numTensors)));
const summary = {
  minutes: total / 60,
  backend: backend.name,
  threads: backend.threads,
  runs: runIndex,
  completedRuns,
  phasesFinished,
  samples: samples.length,
  beforeFirstRun: { numTensors: before.numTensors, rssMb: before.rssMb, heapUsedMb: before.heapUsedMb },
  rows,
  tensorsLeftAfterRuns: leftOver,
  rssSecondHalfGrowth: rssGrowth,
  tensorsFlat: phaseEndSpread !== null && phaseEndSpread <= TENSOR_TOLERANCE && leftOver <= TENSOR_TOLERANCE,
  rssFlat: rssGrowth !== null && rssGrowth < RSS_GROWTH_LIMIT,
};
const flat = summary.tensorsFlat && summary.rssFlat;

const fixed = (value: number | null, digits: number) => (value === null ? '—' : value.toFixed(digits));
log('');
log(
  ['', 'first', 'last', 'last/first', 'max−min', 'slope/min, 2nd half']
    .map((cell, index) => (index === 0 ? cell.padEnd(26) : cell.padStart(index === 5 ? 22 : 11)))
    .join(''),
);
for (const item of rows) {
  const digits = Number.isInteger(item.first ?? 0) && Number.isInteger(item.last ?? 0) ? 0 : 1;
  log(
    [
      item.label.padEnd(26),
      fixed(item.first, digits).padStart(11),
      fixed(item.last, digits).padStart(11),
      fixed(item.lastOverFirst, 3).padStart(11),
      fixed(item.maxMinusMin, digits).padStart(11),
      fixed(item.secondHalfSlope, 2).padStart(22),
    ].join(''),
  );
}
log('');
log(
  `${summary.minutes.toFixed(1)} min on ${backend.name}, ${runIndex} runs (${completedRuns} finished), ` +
    `${phasesFinished} phases, ${samples.length} samples; before the first run: ${before.numTensors} tensors, ` +
    `RSS ${before.rssMb.toFixed(0)} MB; RSS over the second half: ${
      rssGrowth === null ? '—' : `${(rssGrowth * 100).toFixed(1)}%`
    }`,
);
log(
  `verdict: ${flat ? 'flat' : 'NOT flat'} (tensors ${summary.tensorsFlat ? 'flat' : 'grow'}, RSS ${
    summary.rssFlat ? 'flat' : 'grows'
  })`,
);
if (json) process.stdout.write(`${JSON.stringify({ flat, summary, samples }, null, 2)}\n`);
process.exit(flat ? 0 : 1);

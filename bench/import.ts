/**
 * Import benchmark (not part of `npm test`): throughput and peak RSS of the workbench's
 * `dataset.import` on a generated WildChat-style JSONL, side by side with a Python reference
 * that reads the same file line by line with the json module and applies the same
 * normalisation (bench/import_reference.py). Goal: at least 2x the Python throughput.
 *
 *   node --import tsx bench/import.ts [--size-mb 1024] [--skip-cli] [--skip-python]
 *
 * Rows:
 * - python reference: no language detection (none is installed for Python here);
 * - workbench engine: the import job's handler in a child process with the import worker's heap
 *   limits (engine/job-kinds.ts), with the language facet (more work than the reference) and
 *   without it (the same work);
 * - workbench CLI: `drift-wb import --json` end to end (host, job worker thread, catalog), with
 *   the language facet; its peak RSS is the whole process (host and worker threads share one)
 *   plus any child process, and includes the development-mode tsx loader.
 * Columns: wall-clock MB/s and its ratio to Python, and CPU seconds of all threads and the ratio
 * of Python's CPU time to the row's (the other load on a shared machine disturbs it less).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWildchatJsonl } from './import-data.js';
import { IMPORT_HEAP_LIMITS, heapFlags } from '../src-main/engine/job-kinds.js';
import { numberOption } from './options.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

interface Measured {
  name: string;
  seconds: number;
  /** CPU time of all the run's threads, where known: a figure the machine's other load disturbs less. */
  cpuSeconds: number | null;
  bytes: number;
  maxRssMb: number | null;
  conversations?: number;
}

/** The process ids of `pid` and all its descendants (Linux /proc; just `pid` elsewhere). */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${tree[index]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${tree[index]}/task/${task}/children`, 'utf8').trim();
        if (children) tree.push(...children.split(/\s+/).map(Number));
      } catch {
        // The task ended meanwhile.
      }
    }
  }
  return tree;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs a command; resolves with its stdout, its wall time and its peak RSS (Linux): the larger
 * of the kernel's own peak counter of the process (VmHWM; all its threads share one RSS) and
 * the largest sum of the RSS of the process and its descendants seen in 50 ms polls (the tsx
 * loader may start an esbuild service process).
 */
function measure(command: string, args: string[]): Promise<{ stdout: string; seconds: number; peakMb: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const tree = processTree(child.pid).reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0);
      peakKb = Math.max(peakKb, tree, statusKb(child.pid, 'VmHWM'));
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000)}`));
      else resolve({ stdout, seconds, peakMb: peakKb > 0 ? peakKb / 1024 : null });
    });
  });
}

async function workbenchEngine(file: string, language: boolean): Promise<Measured> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'drift-bench-ws-'));
  try {
    const args = [...heapFlags(IMPORT_HEAP_LIMITS), '--import', 'tsx', 'bench/import-child.ts', file, workspace];
    if (!language) args.push('--no-language');
    const run = await measure(process.execPath, args);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      seconds: number;
      cpuSeconds: number;
      bytes: number;
      conversations: number;
      maxRssMb: number;
    };
    const name = `workbench engine${language ? '' : ', no language'}`;
    return {
      name,
      seconds: result.seconds,
      cpuSeconds: result.cpuSeconds,
      bytes: result.bytes,
      maxRssMb: result.maxRssMb,
      conversations: result.conversations,
    };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

async function workbenchCli(file: string, bytes: number): Promise<Measured> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'drift-bench-ws-'));
  try {
    const run = await measure(process.execPath, [
      'bin/drift-wb.js',
      'import',
      file,
      '--json',
      '--workspace',
      workspace,
    ]);
    const summary = JSON.parse(run.stdout) as { conversations: number; durationMs: number };
    // The job's own duration: process start-up and workspace opening are not import throughput.
    return {
      name: 'workbench CLI (job)',
      seconds: summary.durationMs / 1000,
      cpuSeconds: null,
      bytes,
      maxRssMb: run.peakMb,
      conversations: summary.conversations,
    };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

async function python(file: string): Promise<Measured> {
  const out = path.join(os.tmpdir(), `drift-bench-python-${process.pid}.jsonl`);
  try {
    const run = await measure('python3', ['bench/import_reference.py', file, out]);
    const result = JSON.parse(run.stdout.trim()) as {
      seconds: number;
      cpuSeconds: number;
      bytes: number;
      maxRssMb: number;
      counts: { conversations: number };
    };
    return {
      name: 'python reference',
      seconds: result.seconds,
      cpuSeconds: result.cpuSeconds,
      bytes: result.bytes,
      maxRssMb: result.maxRssMb,
      conversations: result.counts.conversations,
    };
  } finally {
    await rm(out, { force: true });
  }
}

const sizeMb = numberOption('--size-mb', 1024);
const file = path.join(os.tmpdir(), `drift-bench-wildchat-${sizeMb}mb.jsonl`);
const generating = performance.now();
const bytes = await ensureWildchatJsonl(file, sizeMb * 1024 * 1024);
console.log(
  `input: ${file} (${(bytes / 1e6).toFixed(0)} MB, ready in ${((performance.now() - generating) / 1000).toFixed(1)} s)`,
);
console.log(
  `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.versions.node}, load ${os.loadavg()[0]!.toFixed(2)}`,
);

const rows: Measured[] = [];
const reference = process.argv.includes('--skip-python') ? null : await python(file);
if (reference) rows.push(reference);
rows.push(await workbenchEngine(file, true));
rows.push(await workbenchEngine(file, false));
if (!process.argv.includes('--skip-cli')) rows.push(await workbenchCli(file, bytes));

const throughput = (row: Measured) => row.bytes / 1e6 / row.seconds;
const cpuRatio = (row: Measured) =>
  reference?.cpuSeconds && row.cpuSeconds ? (reference.cpuSeconds / row.cpuSeconds).toFixed(2) : '-';
console.log('');
console.log(
  `${'run'.padEnd(34)}${'seconds'.padStart(9)}${'MB/s'.padStart(9)}${'x python'.padStart(10)}` +
    `${'CPU s'.padStart(9)}${'x py CPU'.padStart(10)}${'peak RSS MB'.padStart(13)}${'conversations'.padStart(15)}`,
);
for (const row of rows) {
  const ratio = reference ? (throughput(row) / throughput(reference)).toFixed(2) : '-';
  console.log(
    `${row.name.padEnd(34)}${row.seconds.toFixed(2).padStart(9)}${throughput(row).toFixed(1).padStart(9)}` +
      `${ratio.padStart(10)}${(row.cpuSeconds?.toFixed(2) ?? '-').padStart(9)}${cpuRatio(row).padStart(10)}` +
      `${(row.maxRssMb === null ? 'n/a' : row.maxRssMb.toFixed(0)).padStart(13)}${String(row.conversations ?? '').padStart(15)}`,
  );
}

/**
 * Child process for bench/import.ts and the memory test: runs the `dataset.import` handler on
 * one file in this process (no job worker, no host) and prints its result, time and peak RSS as
 * one JSON line. Run it with the heap limits the import worker gets (engine/job-kinds.ts).
 */
import { mkdir } from 'node:fs/promises';
import { importDataset } from '../src-main/engine/data/import.js';
import type { ImportResult } from '../src-main/engine/data/import.js';

const [file, workspace, ...flags] = process.argv.slice(2);
if (!file || !workspace) throw new Error('usage: import-child.ts FILE WORKSPACE [--no-language]');
await mkdir(workspace, { recursive: true });
const started = performance.now();
const cpuBefore = process.cpuUsage();
const result = (await importDataset(
  { paths: [file], language: !flags.includes('--no-language') },
  {
    jobId: 'in-process',
    workspaceDir: workspace,
    backend: { name: 'cpu', tfjsVersion: 'not loaded', gpu: false, threads: 0, attempts: [], shims: [] },
    signal: new AbortController().signal,
    progress: () => undefined,
    throwIfCancelled: () => undefined,
    output: () => undefined,
  },
)) as ImportResult;
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({
    seconds,
    // CPU time of every thread of the process.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes: result.bytes,
    conversations: result.conversations,
    rejected: result.rejected,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);

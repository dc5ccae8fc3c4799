/**
 * Crash safety: a writer process is SIGKILLed at random moments while it updates the catalog.
 * After every kill the catalog must open cleanly (no quarantine needed), hold every update the
 * writer acknowledged, and no temp file may be left behind.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/workspace/index.js';
import { listFiles, makeTempDir, removeTempDirs } from './helpers.js';

const writerScript = fileURLToPath(new URL('./fixtures/catalog-writer.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const KILLS = 10;

afterAll(removeTempDirs);

interface KilledWriter {
  /** The highest count the writer printed as committed before it died. */
  acknowledged: number;
  stderr: string;
}

/** Starts the writer, waits until it has opened the catalog, kills it after `delayMs`. */
function runAndKill(dir: string, delayMs: number): Promise<KilledWriter> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const startup = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes('ready\n')) {
        clearTimeout(startup);
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(startup);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited by itself (signal ${String(signal)}): ${stderr}`));
        return;
      }
      const counts = [...stdout.matchAll(/^committed (\d+)$/gm)].map((match) => Number(match[1]));
      resolve({ acknowledged: counts.at(-1) ?? 0, stderr });
    });
  });
}

describe('a writer killed mid-update', () => {
  it(`loses no acknowledged write and corrupts nothing over ${KILLS} random kills`, async () => {
    const dir = await makeTempDir();
    let previousTotal = 0;
    let killedMidRun = 0;
    for (let round = 0; round < KILLS; round++) {
      const delayMs = 20 + Math.floor(Math.random() * 280);
      const { acknowledged, stderr } = await runAndKill(dir, delayMs);
      expect(stderr).toBe('');

      const catalog = await Catalog.open(dir);
      try {
        const ids = catalog.data.datasets.map((entry) => entry.id);
        const total = ids.length;
        // Every committed write is present, in order, and nothing else (at most one write may
        // have reached the disk after the last "committed" line was printed).
        expect(ids).toEqual(Array.from({ length: total }, (_, index) => `d${index + 1}`));
        expect(total).toBeGreaterThanOrEqual(Math.max(acknowledged, previousTotal));
        expect(total).toBeLessThanOrEqual(Math.max(acknowledged, previousTotal) + 1);
        if (acknowledged > previousTotal) killedMidRun++;
        previousTotal = total;

        // Atomic writes never leave a damaged file behind: no recovery was needed.
        expect(catalog.warnings.filter((warning) => !warning.includes('workbench.lock'))).toEqual([]);
        expect(await listFiles(dir, /corrupt/)).toEqual([]);
        expect(await listFiles(dir, /\.tmp$/)).toEqual([]);
        const onDisk = JSON.parse(await readFile(path.join(dir, 'workbench.json'), 'utf8')) as { datasets: unknown[] };
        expect(onDisk.datasets).toHaveLength(total);
      } finally {
        await catalog.close();
      }
    }
    // The kills landed while the writer was writing, not only before its first update.
    expect(killedMidRun).toBeGreaterThan(KILLS / 2);
  }, 60_000);
});

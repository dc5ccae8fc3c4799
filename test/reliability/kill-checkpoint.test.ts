/**
 * SIGKILL during checkpoint writes (issue 11, reliability.md §7 item 17): a child saves a tiny
 * model's checkpoints step after step and is killed at a random moment, KILLS times
 * (RELIABILITY_KILLS; 8 by default, 30 in docs/RELIABILITY.md). After every kill the newest valid
 * checkpoint is at least the last one the child acknowledged (so a checkpoint that was `latest`
 * stays loadable), it verifies against its manifest and loads, it is never a staging folder, and
 * cleaning removes every leftover of the interrupted save.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanStaleStaging, findLatestCheckpoint, loadCheckpoint } from '../../src-main/engine/train/checkpoint.js';
import { useBackend } from '../engine/model/helpers.js';
import { KILLS, killDelays, makeTempDir, removeTempDirs, runAndKill } from './helpers.js';

const writer = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url));

beforeAll(() => useBackend('cpu'));
afterAll(removeTempDirs);

describe('SIGKILL during checkpoint writes', () => {
  it(
    `keeps the last acknowledged checkpoint loadable over ${KILLS} kills`,
    async () => {
      const folder = path.join(await makeTempDir('drift-kill-checkpoint-'), 'checkpoints');
      let acknowledged = 0;
      let leftovers = 0;
      let landedMidRun = 0;
      const started = Date.now();
      for (const delayMs of killDelays(KILLS, 50, 1500, 2)) {
        const { lines, stderr } = await runAndKill(writer, [folder], delayMs);
        // tfjs prints a hint about tfjs-node on stderr; anything else is an error.
        expect(stderr.replace(/={10,}[\s\S]*?={10,}/g, '').trim()).toBe('');
        const steps = lines.flatMap((line) => /^saved (\d+)$/.exec(line)?.[1] ?? []).map(Number);
        if (steps.length > 0) landedMidRun++;
        acknowledged = Math.max(acknowledged, ...steps);

        const { checkpoint } = await findLatestCheckpoint(folder);
        if (acknowledged === 0) continue;
        expect(checkpoint, `after acknowledging step ${acknowledged}`).not.toBeNull();
        expect(checkpoint!.step).toBeGreaterThanOrEqual(acknowledged);
        expect(path.basename(checkpoint!.folder)).toMatch(/^step-\d{9}$/);
        const loaded = await loadCheckpoint(checkpoint!);
        expect(loaded.step).toBe(checkpoint!.step);
        loaded.model.dispose();
        acknowledged = checkpoint!.step;

        const removed = await cleanStaleStaging(folder);
        leftovers += removed.length;
        expect((await readdir(folder)).filter((name) => name.startsWith('.') || name.endsWith('.tmp'))).toEqual([]);
      }
      expect(acknowledged).toBeGreaterThan(0);
      expect(landedMidRun).toBeGreaterThan(KILLS / 2);
      console.info(
        `checkpoint kills: ${KILLS} kills, last step ${acknowledged}, ${leftovers} leftovers cleaned, ${Date.now() - started} ms`,
      );
    },
    60_000 + KILLS * 10_000,
  );
});

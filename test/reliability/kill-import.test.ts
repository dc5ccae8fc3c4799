/**
 * SIGKILL during dataset imports (issue 11): a child process opens the engine and imports the same
 * JSONL file again and again, and is killed at a random moment, KILLS times (RELIABILITY_KILLS; 8
 * by default, 30 in docs/RELIABILITY.md). After every kill the workspace opens, every dataset the
 * catalog lists (and every one the child acknowledged) is intact, byte for byte as first seen, and
 * the next import removes the staging folders of the killed one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src-main/engine/index.js';
import { openWorkspace } from '../../src-main/engine/workspace/index.js';
import { KILLS, killDelays, makeTempDir, removeTempDirs, runAndKill } from './helpers.js';

const runner = fileURLToPath(new URL('./fixtures/import-runner.ts', import.meta.url));

afterAll(removeTempDirs);

async function digest(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('SIGKILL during dataset imports', () => {
  it(
    `keeps every committed dataset intact over ${KILLS} kills`,
    async () => {
      const root = await makeTempDir('drift-kill-import-');
      const workspaceDir = path.join(root, 'workspace');
      const dataFile = path.join(root, 'chat.jsonl');
      const lines = Array.from({ length: 12_000 }, (_, index) =>
        JSON.stringify({
          messages: [
            { role: 'user', content: `Question ${index}: how do I sort a list of ${index} items?` },
            { role: 'assistant', content: `Use sorted() on the ${index} items, or list.sort() in place.` },
          ],
        }),
      );
      await writeFile(dataFile, `${lines.join('\n')}\n`);

      const seen = new Map<string, string>();
      const acknowledged = new Set<string>();
      let landedMidImport = 0;
      const started = Date.now();
      for (const delayMs of killDelays(KILLS, 200, 3500, 3)) {
        const killed = await runAndKill(runner, [workspaceDir, dataFile], delayMs);
        for (const line of killed.lines) {
          const id = /^committed (\S+)$/.exec(line)?.[1];
          if (id) acknowledged.add(id);
        }
        const workspace = await openWorkspace(workspaceDir);
        try {
          expect(workspace.catalog.warnings.filter((warning) => !/lock/i.test(warning))).toEqual([]);
          const listed = workspace.catalog.data.datasets.map((entry) => entry.id);
          for (const id of acknowledged) expect(listed).toContain(id);
          for (const id of listed) {
            const file = path.join(workspaceDir, 'datasets', id, 'conversations.jsonl');
            const hash = await digest(file);
            expect(seen.get(id) ?? hash, id).toBe(hash);
            seen.set(id, hash);
          }
          const folders = await readdir(path.join(workspaceDir, 'datasets'));
          if (folders.some((name) => name.includes('.staging-'))) landedMidImport++;
        } finally {
          await workspace.close();
        }
      }
      expect(seen.size).toBeGreaterThan(0);
      expect(landedMidImport).toBeGreaterThan(0);

      // The next import removes what the killed ones left behind.
      const engine = await openEngine({ workspaceDir, host: 'cli' });
      try {
        const job = await engine.runJob('dataset.import', { paths: [dataFile] });
        expect(job.status).toBe('succeeded');
      } finally {
        await engine.close();
      }
      const folders = await readdir(path.join(workspaceDir, 'datasets'));
      expect(folders.filter((name) => name.includes('.staging-'))).toEqual([]);
      const workspace = await openWorkspace(workspaceDir);
      const listed = new Set(workspace.catalog.data.datasets.map((entry) => entry.id));
      await workspace.close();
      // A kill between the rename of the finished folder and its catalog entry leaves a folder the
      // catalog does not list; count them (docs/RELIABILITY.md records the figure).
      const orphans = folders.filter((name) => !listed.has(name));
      console.info(
        `import kills: ${KILLS} kills, ${seen.size} datasets kept intact, ${landedMidImport} kills left a staging folder, ` +
          `${orphans.length} unlisted folders, ${Date.now() - started} ms`,
      );
    },
    60_000 + KILLS * 12_000,
  );
});

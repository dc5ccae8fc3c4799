/**
 * The folders are the architecture and a lint rule guards it (STYLE.md §1). These cases lint
 * small probe sources as if they lived in each layer, so the rule cannot silently stop working.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function messagesFor(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const restricted = (messages: string[]) => messages.filter((m) => /no-restricted-imports/.test(m));

describe('layering rule', () => {
  it.each([
    ['src-main/engine/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-main/api/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-main/server/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-main/cli/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
  ])('%s may not import electron', async (file, source) => {
    expect(restricted(await messagesFor(file, source)).join('\n')).toMatch(
      /Only src-main\/shell and src-main\/preload/,
    );
  });

  it('api/ imports no node:* module and nothing outside api/', async () => {
    const messages = restricted(
      await messagesFor(
        'src-main/api/probe.ts',
        "import { readFile } from 'node:fs';\nimport { openEngine } from '../engine/index.js';\nexport const x = [readFile, openEngine];\n",
      ),
    );
    expect(messages).toHaveLength(2);
  });

  it('engine/ does not depend on its hosts', async () => {
    const source = "import { startServer } from '../server/index.js';\nexport const x = startServer;\n";
    expect(restricted(await messagesFor('src-main/engine/probe.ts', source))).toHaveLength(1);
  });

  it('hosts use the engine only through engine/index.ts', async () => {
    const deep = "import { JobManager } from '../engine/jobs/manager.js';\nexport const x = JobManager;\n";
    const surface = "import { openEngine } from '../engine/index.js';\nexport const x = openEngine;\n";
    for (const host of ['cli', 'server', 'shell']) {
      expect(restricted(await messagesFor(`src-main/${host}/probe.ts`, deep)), host).toHaveLength(1);
      expect(restricted(await messagesFor(`src-main/${host}/probe.ts`, surface)), host).toHaveLength(0);
    }
  });

  it('the renderer imports only types from src-main/api, except through src/lib/api.ts', async () => {
    const value = "import { CHANNELS } from '../../src-main/api/index.js';\nexport const x = CHANNELS;\n";
    const typeOnly = "import type { Job } from '../../src-main/api/index.js';\nexport const x: Job | null = null;\n";
    const engine = "import { openEngine } from '../../src-main/engine/index.js';\nexport const x = openEngine;\n";
    expect(restricted(await messagesFor('src-renderer/src/probe.ts', value))).toHaveLength(1);
    expect(restricted(await messagesFor('src-renderer/src/probe.ts', typeOnly))).toHaveLength(0);
    expect(restricted(await messagesFor('src-renderer/src/probe.ts', engine))).toHaveLength(1);
    const viaApi = "import { CHANNEL_NAMES } from '../../../src-main/api/names.js';\nexport const x = CHANNEL_NAMES;\n";
    expect(restricted(await messagesFor('src-renderer/src/lib/api.ts', viaApi))).toHaveLength(0);
  });

  it('the preload depends on api/ only', async () => {
    const source = "import { openEngine } from '../engine/index.js';\nexport const x = openEngine;\n";
    expect(restricted(await messagesFor('src-main/preload/probe.ts', source))).toHaveLength(1);
  });

  it('bans insecure webPreferences and openExternal outside security.ts', async () => {
    const source = 'export const options = { webPreferences: { sandbox: false, nodeIntegration: true } };\n';
    const messages = (await messagesFor('src-main/shell/window.ts', source)).filter((m) =>
      m.startsWith('no-restricted-syntax'),
    );
    expect(messages).toHaveLength(2);
    const open = "import { shell } from 'electron';\nexport const go = () => shell.openExternal('https://x');\n";
    expect((await messagesFor('src-main/shell/menu2.ts', open)).join('\n')).toMatch(/openExternalSafe/);
  });
});

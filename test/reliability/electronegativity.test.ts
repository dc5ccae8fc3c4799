/**
 * electronegativity (doyensec's Electron security scanner, reliability.md §2 "Tools that check
 * the checklist") over the main-process sources, the renderer page and, when built, out/renderer
 * and out/preload. Its CLI always exits 0 (and clashes with our commander here), so it runs
 * through its programmatic runner, and its findings are gated by
 * test/reliability/electronegativity-allowlist.json: a finding not listed there fails, and so
 * does a file it could not parse (a blind spot). out/main is not scanned: its parser does not
 * know class private fields, and the sources it was built from are scanned instead.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface Finding {
  id: string;
  file: string;
  location: { line: number; column: number };
  description: string;
  manualReview: boolean;
}
interface RunnerResult {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Finding[];
}
type Runner = (options: Record<string, unknown>) => Promise<RunnerResult>;

afterAll(removeTempDirs);

/** Copies what is scanned into one folder, so findings have stable relative paths. */
async function scanTarget(): Promise<string> {
  const target = await makeTempDir('drift-electronegativity-');
  await cp(path.join(root, 'src-main'), path.join(target, 'src-main'), {
    recursive: true,
    filter: (source) => !source.includes('__pycache__') && !source.endsWith('.py'),
  });
  await mkdir(path.join(target, 'src-renderer'));
  await cp(path.join(root, 'src-renderer', 'index.html'), path.join(target, 'src-renderer', 'index.html'));
  for (const built of ['out/renderer/index.html', 'out/preload']) {
    if (existsSync(path.join(root, built)))
      await cp(path.join(root, built), path.join(target, built), { recursive: true });
  }
  return target;
}

describe('electronegativity', () => {
  it('finds nothing outside the reviewed allowlist, and parses every file', async () => {
    const run = require('@doyensec/electronegativity/dist/runner.js') as Runner;
    const packageJson = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const allowlist = JSON.parse(
      await readFile(path.join(root, 'test/reliability/electronegativity-allowlist.json'), 'utf8'),
    ) as { allowed: { id: string; file: string; reason: string }[] };
    const electronVersion = packageJson.devDependencies['electron']?.replace(/^[^\d]*/, '');
    expect(electronVersion).toMatch(/^\d+\.\d+\.\d+$/);

    const target = await scanTarget();
    const result = await run({
      input: target,
      electronVersionOverride: electronVersion,
      isRelative: true,
      customScan: [],
      excludeFromScan: [],
    });
    expect(result.atomicChecks + result.globalChecks).toBeGreaterThan(30);
    expect(result.errors.filter((error) => !error.tolerable)).toEqual([]);

    const allowed = new Set(allowlist.allowed.map((entry) => `${entry.id} ${entry.file}`));
    const findings = result.issues.map((issue) => ({
      key: `${issue.id} ${issue.file}`,
      where: `${issue.file}:${issue.location.line}`,
      description: issue.description,
    }));
    const unexpected = findings.filter((finding) => !allowed.has(finding.key));
    expect(unexpected, 'new electronegativity findings: fix them or review and allowlist them').toEqual([]);
    console.info(
      `electronegativity: ${result.atomicChecks} atomic + ${result.globalChecks} global checks, ` +
        `${findings.length} findings, all allowlisted: ${findings.map((finding) => finding.where).join(', ')}`,
    );
  }, 60_000);

  it('does report an insecure window (the gate can fail)', async () => {
    const run = require('@doyensec/electronegativity/dist/runner.js') as Runner;
    const target = await makeTempDir('drift-electronegativity-bad-');
    await writeFile(
      path.join(target, 'main.ts'),
      "import { BrowserWindow } from 'electron';\n" +
        'export const window = new BrowserWindow({ webPreferences: { sandbox: false, contextIsolation: false } });\n',
    );
    const result = await run({ input: target, electronVersionOverride: '39.5.0', isRelative: true });
    const ids = result.issues.map((issue) => issue.id);
    expect(ids).toEqual(expect.arrayContaining(['SANDBOX_JS_CHECK', 'CONTEXT_ISOLATION_JS_CHECK']));
  }, 60_000);
});

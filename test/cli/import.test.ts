/** `drift-wb import` and `drift-wb formats` as a user runs them: a child process on bin/drift-wb.js. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'drift-wb.js');
const run = promisify(execFile);

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-cli-import-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: root, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('drift-wb import', () => {
  it('prints the import summary as one JSON document with --json', async () => {
    const file = join(dir, 'dsat_data.jsonl');
    const say = (role: string, content: string) => ({ role, content });
    const rows = [
      {
        prompt: [say('user', 'Sort [3,1,2].')],
        rejected: [say('assistant', 'Sorting is...')],
        user_preference: say('user', 'Just the list.'),
      },
      {
        prompt: [say('user', 'Capital of Peru?')],
        rejected: [say('assistant', 'Peru is in South America.')],
        user_preference: say('user', 'You did not answer.'),
      },
    ];
    await writeFile(file, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n{"prompt": oops}\n`);
    const { code, stdout, stderr } = await cli([
      'import',
      file,
      '--json',
      '--workspace',
      join(dir, 'ws'),
      '--name',
      'dsat',
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      datasetId: expect.stringMatching(/^dsat-/),
      format: 'drift-dsat',
      conversations: 2,
      messages: 6,
      rejected: 1,
      errors: [{ file: 'dsat_data.jsonl', line: 3, code: 'json_invalid', message: expect.stringContaining('JSON') }],
    });
    expect(stderr).toContain('[dataset.import] succeeded');
  });

  it('fails with a code and the field listing when the shape is unknown, and lists formats', async () => {
    const file = join(dir, 'odd.jsonl');
    await writeFile(file, '{"q":"x","a":"y"}\n{"q":"z","a":"w"}\n');
    const failed = await cli(['import', file, '--json', '--workspace', join(dir, 'ws')]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, error: { code: 'format_unrecognised' } });
    expect(failed.stderr).toContain('fields: q, a');
    const mapped = await cli([
      'import',
      file,
      '--map',
      'prompt=q',
      '--map',
      'chosen=a',
      '--workspace',
      join(dir, 'ws'),
    ]);
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(mapped.stdout).toContain('Imported 2 conversations');
    const usage = await cli(['import', file, '--format', 'nope', '--workspace', join(dir, 'ws')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('[format_unknown]');
    const formats = await cli(['formats', '--json']);
    expect((JSON.parse(formats.stdout) as { name: string }[]).map((format) => format.name)).toContain(
      'wildfeedback-annotations',
    );
  });
});

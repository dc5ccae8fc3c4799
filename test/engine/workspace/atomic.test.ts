import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendJsonLine,
  readJsonLines,
  removeStaleTemps,
  writeFileAtomic,
} from '../../../src-main/engine/workspace/index.js';
import { deadPid, listFiles, makeTempDir, removeTempDirs } from './helpers.js';

afterEach(removeTempDirs);

describe('writeFileAtomic', () => {
  it('creates and then replaces the content, leaving no temp files', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'run.json');
    await writeFileAtomic(file, '{"v":1}');
    expect(await readFile(file, 'utf8')).toBe('{"v":1}');
    await writeFileAtomic(file, new TextEncoder().encode('{"v":2}'));
    expect(await readFile(file, 'utf8')).toBe('{"v":2}');
    expect(await listFiles(dir, /./)).toEqual(['run.json']);
  });

  it('gives concurrent writers their own temp files, so one of the complete contents wins', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'x.json');
    const contents = Array.from({ length: 20 }, (_, index) => JSON.stringify({ index, pad: 'x'.repeat(10_000) }));
    await Promise.all(contents.map((content) => writeFileAtomic(file, content)));
    expect(contents).toContain(await readFile(file, 'utf8'));
    expect(await listFiles(dir, /\.tmp$/)).toEqual([]);
  });

  it('removes its temp file when the rename fails', async () => {
    const dir = await makeTempDir();
    const target = path.join(dir, 'occupied');
    await mkdir(path.join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(await listFiles(dir, /\.tmp$/)).toEqual([]);
  });
});

describe('removeStaleTemps', () => {
  it('removes temp files of dead writers only', async () => {
    const dir = await makeTempDir();
    const dead = `.workbench.json.${deadPid()}.a1b2c3.tmp`;
    const ours = `.workbench.json.${process.pid}.a1b2c3.tmp`;
    const live = `.workbench.json.${process.ppid}.a1b2c3.tmp`;
    const unrelated = '.editor-swap.tmp';
    for (const name of [dead, ours, live, unrelated]) await writeFile(path.join(dir, name), 'partial');
    const removed = await removeStaleTemps(dir);
    expect(removed).toEqual([path.join(dir, dead)]);
    expect(await listFiles(dir, /./)).toEqual([ours, live, unrelated].sort());
  });

  it('accepts a folder that does not exist', async () => {
    const dir = await makeTempDir();
    expect(await removeStaleTemps(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('appendJsonLine and readJsonLines', () => {
  it('round-trips values, one line each', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'metrics.jsonl');
    await Promise.all([1, 2, 3].map((step) => appendJsonLine(file, { step, text: 'line\nbreak' })));
    expect(await readFile(file, 'utf8')).toMatch(/^(\{[^\n]*\}\n){3}$/);
    const { values, dropped } = await readJsonLines(file);
    expect(values).toEqual([1, 2, 3].map((step) => ({ step, text: 'line\nbreak' })));
    expect(dropped).toEqual([]);
  });

  it('drops and reports a torn last line, and the next append starts on a new line', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'metrics.jsonl');
    await appendJsonLine(file, { step: 1 });
    await appendJsonLine(file, { step: 2 });
    await appendFile(file, '{"step":3,"lo'); // a crash in the middle of an append

    const torn = await readJsonLines(file);
    expect(torn.values).toEqual([{ step: 1 }, { step: 2 }]);
    expect(torn.dropped).toHaveLength(1);
    expect(torn.dropped[0]).toMatchObject({ line: 3, reason: 'torn_last_line' });
    expect(torn.dropped[0]?.message).toContain('metrics.jsonl');

    await appendJsonLine(file, { step: 4 });
    const after = await readJsonLines(file);
    expect(after.values).toEqual([{ step: 1 }, { step: 2 }, { step: 4 }]);
    expect(after.dropped).toMatchObject([{ line: 3, reason: 'invalid_json' }]);
  });

  it('treats a complete but invalid last line as torn', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'samples.jsonl');
    await writeFile(file, '{"a":1}\n{"a":\n');
    const { values, dropped } = await readJsonLines(file);
    expect(values).toEqual([{ a: 1 }]);
    expect(dropped).toMatchObject([{ line: 2, reason: 'torn_last_line' }]);
  });

  it('refuses a value JSON cannot represent', async () => {
    const dir = await makeTempDir();
    await expect(appendJsonLine(path.join(dir, 'x.jsonl'), undefined)).rejects.toThrow(TypeError);
  });
});

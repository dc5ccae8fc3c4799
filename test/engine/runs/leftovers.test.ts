/**
 * What a killed process leaves of a run, found by test/reliability/kill-run.test.ts: a resumed
 * run removes the temp files of atomic writes by dead processes, the staging and replaced folders
 * of a phase model's save, and the staging folders of its models' links in the workspace (other
 * entries stay); and a run that finished just before its process died, so the catalog still
 * lists it running, is listed succeeded with its models when the workspace opens again.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunTrainResult } from '../../../src-main/api/index.js';
import { openEngine } from '../../../src-main/engine/index.js';
import { runEntryOf } from '../../../src-main/engine/runs/catalog.js';
import { selectBackend } from '../../../src-main/engine/backend.js';
import { readRunFile } from '../../../src-main/engine/runs/files.js';
import { trainRun } from '../../../src-main/engine/runs/job.js';
import { openWorkspace } from '../../../src-main/engine/workspace/index.js';
import { fakeContext, removeWorkspaces, runWorkspace, tinyRunConfig } from './helpers.js';

/** A pid no process has (above the kernel's pid_max). */
const DEAD_PID = 2 ** 22 + 1;

beforeAll(() => selectBackend('wasm'));
afterAll(removeWorkspaces);

describe('resuming a killed run', () => {
  it('removes the temp files and staging folders the killed job left, and nothing else', async () => {
    const workspace = await runWorkspace();
    const folder = path.join(workspace, 'runs', 'killed');
    // Paused right after the seed phase finished (its model id is known), as a kill there leaves it.
    const first = fakeContext(workspace, (output, controller) => {
      if (output.type === 'phase-finished') controller.abort();
    });
    await trainRun({ config: tinyRunConfig({ iterations: 1 }), runId: 'killed' }, first).catch(() => undefined);
    const paused = await readRunFile(folder);
    expect(paused?.status).toBe('paused');
    const modelId = paused!.iterations[0]!.modelId!;

    const planted = [
      path.join(folder, `.run.json.${DEAD_PID}.0123456789ab.tmp`),
      path.join(folder, 'iter-0', `.pairs.jsonl.${DEAD_PID}.0123456789ab.tmp`),
      path.join(folder, 'iter-1', `.model.staging-${DEAD_PID}-0a1b2c3d`),
      path.join(folder, 'iter-1', `.model.replaced-${DEAD_PID}-0a1b2c3d`),
      path.join(workspace, 'models', `.staging-${modelId}-0a1b2c3d`),
    ];
    const kept = [
      path.join(folder, `.run.json.${process.pid}.0123456789ab.tmp`),
      path.join(workspace, 'models', '.staging-another-model-0a1b2c3d'),
    ];
    for (const file of [...planted, ...kept]) {
      await mkdir(path.dirname(file), { recursive: true });
      if (/staging|replaced/.test(path.basename(file))) await mkdir(file);
      else await writeFile(file, '{');
    }

    const resumed = fakeContext(workspace);
    expect(RunTrainResult.parse(await trainRun({ runId: 'killed', resume: true }, resumed)).status).toBe('succeeded');
    const left = async (file: string) => (await readdir(path.dirname(file))).includes(path.basename(file));
    for (const file of planted) expect(await left(file), file).toBe(false);
    for (const file of kept) expect(await left(file), file).toBe(true);
    expect((await readRunFile(folder))?.notes).toContain('Removed 5 unfinished files of the interrupted job.');
  });

  it('lists a run that ended just before its process died as succeeded, with its models', async () => {
    const workspace = await runWorkspace();
    await trainRun({ config: tinyRunConfig({ iterations: 1 }), runId: 'ended' }, fakeContext(workspace));
    const run = (await readRunFile(path.join(workspace, 'runs', 'ended')))!;
    expect(run.status).toBe('succeeded');
    // The catalog as the host left it while the job ran: the run running, its models not registered.
    const before = await openWorkspace(workspace);
    await before.catalog.update((draft) => {
      draft.runs.push({ ...runEntryOf(run, 'job-of-a-dead-process'), status: 'running' });
    });
    await before.close();

    const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
    try {
      const listed = await engine.handlers['run:list']({});
      expect(listed).toContainEqual(expect.objectContaining({ id: 'ended', status: 'succeeded', jobId: null }));
      const models = (await engine.handlers['model:list']({})).map((model) => model.id);
      for (const summary of run.iterations) expect(models).toContain(summary.modelId);
    } finally {
      await engine.close();
    }
  });
});

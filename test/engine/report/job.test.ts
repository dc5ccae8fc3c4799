/**
 * The `report.build` job through a real engine: the worker writes the report folder, the host's
 * completion step records it in the catalog, and report:list / report:get / report:export serve
 * it (through dispatch, with the contract's validation).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dispatch,
  type Channel,
  type Handlers,
  type RequestOf,
  type ResponseOf,
  type Result,
} from '../../../src-main/api/index.js';
import { openEngine, type Engine } from '../../../src-main/engine/index.js';
import { createFixtureWorkspace } from './fixtures.js';

let engine: Engine | undefined;
let workspaceDir: string | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  if (workspaceDir) await rm(workspaceDir, { recursive: true, force: true });
});

/** Calls a channel as a host does, validating the response against the contract too. */
async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
  const handlers: Handlers = {
    ...engine!.handlers,
    'dialog:open': async () => ({ canceled: true, paths: [] }),
    'link:open': async () => ({ opened: false }),
  };
  return (await dispatch(handlers, channel, request, { validateResponses: true })) as Result<ResponseOf<C>>;
}

describe('report.build job', () => {
  it('builds in a worker, registers the report and serves it', async () => {
    const workspace = await createFixtureWorkspace();
    workspaceDir = workspace.dir;
    engine = await openEngine({ workspaceDir: workspace.dir, host: 'cli' });
    const events: string[] = [];
    engine.on('catalog:changed', ({ section }) => events.push(section));
    const job = await engine.runJob('report.build', {
      runIds: ['run-a'],
      formats: ['html', 'json', 'md'],
      evaluationFile: workspace.evaluationFile,
      id: 'weekly',
      title: 'Weekly <report>',
    });
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ id: 'weekly', folder: 'reports/weekly', entry: { id: 'weekly' } });
    expect(events).toContain('reports');

    const list = await call('report:list', {});
    expect(list).toMatchObject({
      ok: true,
      value: [
        {
          id: 'weekly',
          title: 'Weekly <report>',
          formats: ['html', 'md', 'json'],
          runIds: ['run-a'],
          folder: 'reports/weekly',
          files: expect.arrayContaining(['report.html', 'report.json', 'report.md', 'charts/curve-loss.svg']),
        },
      ],
    });

    const got = await call('report:get', { id: 'weekly', html: true });
    if (!got.ok) throw new Error(got.error.message);
    expect(got.value.files.find((file) => file.path === 'report.html')?.bytes).toBeGreaterThan(10_000);
    expect(got.value.html).toContain('<title>Weekly &lt;report&gt;</title>');
    const withoutHtml = await call('report:get', { id: 'weekly' });
    expect(withoutHtml).toMatchObject({ ok: true, value: { html: null } });

    const destination = path.join(workspace.dir, 'exported');
    const exported = await call('report:export', { id: 'weekly', destDir: destination });
    expect(exported).toMatchObject({ ok: true, value: { destDir: destination } });
    expect(JSON.parse(await readFile(path.join(destination, 'report.json'), 'utf8'))).toMatchObject({ id: 'weekly' });
    expect(await call('report:export', { id: 'weekly', destDir: destination })).toMatchObject({
      ok: false,
      error: { code: 'export_target_not_empty' },
    });
    expect(await call('report:export', { id: 'weekly', destDir: 'relative/folder' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
    expect(await call('report:get', { id: 'missing' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('fails with the error code of what went wrong', async () => {
    const workspace = await createFixtureWorkspace();
    workspaceDir = workspace.dir;
    engine = await openEngine({ workspaceDir: workspace.dir, host: 'cli' });
    const invalid = await engine.runJob('report.build', { runIds: [], formats: ['html'] });
    expect(invalid).toMatchObject({ status: 'failed', error: { code: 'job_invalid_params' } });
    const missing = await engine.runJob('report.build', { runIds: ['nope'] });
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    const evaluation = await engine.runJob('report.build', { runIds: ['run-a'], evaluationId: 'no-such-evaluation' });
    expect(evaluation).toMatchObject({ status: 'failed', error: { code: 'report_evaluation_invalid' } });
    expect(await call('report:list', {})).toEqual({ ok: true, value: [] });
  });
});

import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure, ModelImportResult, dispatch, type Handlers } from '../../../src-main/api/index.js';
import type { Engine } from '../../../src-main/engine/index.js';
import { openEngine } from '../../../src-main/engine/index.js';
import { countParameters, loadHfModel } from '../../../src-main/engine/model/model.js';
import { inspectModelFolder } from '../../../src-main/engine/model/store.js';
import { TINY_GPT2, TINY_LLAMA, TINY_QWEN3, useBackend } from './helpers.js';

let workspace: string;
beforeAll(async () => {
  await useBackend('wasm');
  workspace = await mkdtemp(path.join(os.tmpdir(), 'drift-models-'));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('inspectModelFolder', () => {
  it('reads architecture, weight count and dtype from the headers alone, as loading counts them', async () => {
    for (const [folder, architecture] of [
      [TINY_LLAMA, 'LlamaForCausalLM'],
      [TINY_QWEN3, 'Qwen3ForCausalLM'],
      [TINY_GPT2, 'GPT2LMHeadModel'],
    ] as const) {
      const { summary, configJson } = await inspectModelFolder(folder);
      const model = await loadHfModel(folder);
      expect(summary.parameters, folder).toBe(countParameters(model));
      model.dispose();
      expect(summary).toMatchObject({ architecture, dtype: 'float32', tokenizer: null });
      expect(configJson['model_type']).toBe(summary.modelType);
    }
  });

  it('refuses a relative path and a folder without config.json', async () => {
    for (const [folder, code] of [
      ['test/fixtures/models/ferrl-tiny-llama', 'model_folder_invalid'],
      [workspace, 'model_folder_invalid'],
    ] as const) {
      const failure = await inspectModelFolder(folder).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AppFailure);
      expect((failure as AppFailure).code).toBe(code);
    }
  });
});

let engine: Engine;

/** The engine's handlers plus stand-ins for the host channels, as a host would pass to dispatch. */
const handlers = (): Handlers => ({
  ...engine.handlers,
  'dialog:open': async () => ({ canceled: true, paths: [] }),
  'link:open': async () => ({ opened: false }),
});

describe('model jobs and channels', () => {
  beforeAll(async () => {
    engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('imports a folder into models/<id>/ with a catalog entry, describes it, and deletes it', async () => {
    const job = await engine.runJob('model.import', { path: TINY_QWEN3, name: 'Tiny Qwen 3' });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(ModelImportResult.parse(job.result).entry).toMatchObject({ id: 'tiny-qwen-3', modelType: 'qwen3' });
    const folder = path.join(workspace, 'models', 'tiny-qwen-3');
    expect((await readdir(folder)).sort()).toEqual([
      'LICENSE-MIT',
      'config.json',
      'generation_config.json',
      'model.safetensors',
    ]);
    const listed = await dispatch(handlers(), 'model:list', {});
    expect(listed.ok && listed.value).toEqual([
      expect.objectContaining({
        id: 'tiny-qwen-3',
        name: 'Tiny Qwen 3',
        architecture: 'Qwen3ForCausalLM',
        origin: 'imported',
      }),
    ]);
    const got = await dispatch(handlers(), 'model:get', { id: 'tiny-qwen-3' });
    expect(got.ok && got.value).toMatchObject({
      config: { model_type: 'qwen3' },
      tokenizer: null,
      chatTemplate: null,
      generationConfig: expect.any(Object),
    });
    const inspected = await dispatch(handlers(), 'model:inspect', { path: TINY_GPT2 });
    expect(inspected.ok && inspected.value).toMatchObject({ architecture: 'GPT2LMHeadModel', path: TINY_GPT2 });

    // The same name again gets the next free id.
    const second = await engine.runJob('model.import', { path: TINY_QWEN3, name: 'Tiny Qwen 3' });
    expect((second.result as { modelId: string }).modelId).toBe('tiny-qwen-3-2');

    const deleted = await dispatch(handlers(), 'model:delete', { id: 'tiny-qwen-3' });
    expect(deleted).toEqual({ ok: true, value: { deleted: true } });
    await expect(stat(folder)).rejects.toThrow();
    const missing = await dispatch(handlers(), 'model:get', { id: 'tiny-qwen-3' });
    expect(missing.ok || missing.error.code).toBe('not_found');
  });

  it('fails an import of a folder that does not load, leaving nothing behind', async () => {
    const job = await engine.runJob('model.import', { path: workspace });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('model_folder_invalid');
    expect((await readdir(path.join(workspace, 'models'))).sort()).toEqual(['tiny-qwen-3-2']);
    const relative = await engine.runJob('model.import', { path: 'models/x' });
    expect(relative.error?.code).toBe('job_invalid_params');
  });
});

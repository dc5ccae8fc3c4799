/**
 * The job kinds of scale-out: `run.export` compiles a run into a TRL bundle (worker: resolve,
 * write files) and `run.import` reads a finished bundle back (worker: run folder and model
 * copies; host completion: catalog entries for the models and the run).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { AppFailure, type RunEntry } from '../../api/index.js';
import type { JobCompletion, JobHandler } from '../jobs/types.js';
import { removeModelFolder } from '../model/store.js';
import { syncRunToCatalog } from '../runs/catalog.js';
import { openWorkspace, runDir } from '../workspace/index.js';
import {
  RunExportParams,
  RunImportParams,
  type RunImportResult,
  type RunImportWorkerResult,
  type TrlExportResult,
} from './params.js';
import { resolveExportSource } from './source.js';
import { writeTrlBundle } from './trl/bundle.js';
import { importBundle, newRunId, readBundle } from './trl/import.js';

function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('job_invalid_params', `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}

function absolute(folder: string, what: string): string {
  if (!path.isAbsolute(folder) || folder.includes('\0')) {
    throw new AppFailure('job_invalid_params', `${what} must be an absolute path: ${JSON.stringify(folder)}.`);
  }
  return path.resolve(folder);
}

/** `run.export`: writes the bundle; returns its files, counts and the commands to run. */
export const exportRunJob: JobHandler = async (params, context) => {
  const request = parseParams(RunExportParams, params);
  const outDir = absolute(request.outDir, 'outDir');
  context.progress('resolving', 0, 1);
  const source = await resolveExportSource(context.workspaceDir, request);
  context.progress('writing', 0, 1);
  const written = await writeTrlBundle(source, {
    outDir,
    overwrite: request.overwrite,
    accelerate: request.accelerate,
    paperScale: request.paperScale,
    nodes: request.nodes,
    gpusPerNode: request.gpusPerNode,
    signal: context.signal,
    onProgress: (phase, done, total) => context.progress(phase, done, total),
  });
  context.progress('writing', 1, 1);
  const result: TrlExportResult = {
    outDir,
    runId: source.runId,
    method: source.config.method,
    files: written.files,
    counts: written.counts,
    baseModel: written.baseModel,
    iterations: written.plan.length,
    notes: written.notes,
    commands: written.commands,
  };
  return result;
};

/** `run.import`: writes the run folder and copies the models; the completion registers them. */
export const importRunJob: JobHandler = async (params, context) => {
  const request = parseParams(RunImportParams, params);
  const dir = absolute(request.dir, 'dir');
  context.progress('reading', 0, 1, dir);
  const bundle = await readBundle(dir);
  const name = request.name ?? `${bundle.run.name} (TRL)`;
  const workspace = await openWorkspace(context.workspaceDir, { readOnly: true });
  const taken = new Set(workspace.catalog.data.runs.map((run) => run.id));
  await workspace.close();
  if (request.runId !== undefined && taken.has(request.runId)) {
    throw new AppFailure('run_exists', `The run ${request.runId} already exists in this workspace.`);
  }
  const runId = request.runId ?? (await newRunId(context.workspaceDir, name, taken));
  return importBundle(dir, {
    workspaceDir: context.workspaceDir,
    runId,
    name,
    models: request.models,
    signal: context.signal,
    onProgress: (phase, done, total, message) => context.progress(phase, done, total, message),
  });
};

/**
 * Host side of `run.import`: the run's models and its entry enter the catalog exactly as a local
 * run's do (engine/runs' syncRunToCatalog reads the run.json the worker wrote). If that fails,
 * the run folder and the copied models are removed, so nothing exists outside the catalog.
 */
export const completeRunImport: JobCompletion = async (_job, result, host) => {
  const imported = result as RunImportWorkerResult;
  let entry: RunEntry | null;
  try {
    if (host.workspace.catalog.data.runs.some((run) => run.id === imported.runId)) {
      throw new AppFailure('run_exists', `The catalog already has a run ${imported.runId}.`);
    }
    entry = await syncRunToCatalog(host, imported.runId, { jobId: null });
    if (entry === null)
      throw new AppFailure('run_import_invalid', `The imported run ${imported.runId} has no run.json.`);
  } catch (error) {
    const ids = new Set(imported.models.map((model) => model.modelId));
    if (host.workspace.catalog.data.models.some((model) => ids.has(model.id))) {
      await host.workspace.catalog.update((draft) => {
        draft.models = draft.models.filter((model) => !ids.has(model.id));
      });
    }
    for (const model of imported.models) await removeModelFolder(host.workspace.dir, model.modelId);
    await rm(runDir(host.workspace.dir, imported.runId), { recursive: true, force: true });
    throw error;
  }
  const ids = new Set(imported.models.map((model) => model.modelId));
  const final: RunImportResult = {
    ...imported,
    run: entry,
    modelEntries: host.workspace.catalog.data.models.filter((model) => ids.has(model.id)),
  };
  return final;
};

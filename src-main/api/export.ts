/**
 * Scale-out: the job parameters and results of `run.export` (compile a run into a training bundle
 * for a distributed engine) and `run.import` (read a finished bundle's checkpoints and trainer logs
 * back as a workspace run). Shared by the engine's handlers (which validate the params where they
 * enter the worker), the CLI (`drift-wb export`, `drift-wb import-run`) and the Runs view.
 */
import { z } from 'zod';
import type { ModelSummary } from './models.js';
import { RunConfig, type RunIterationSummary } from './runs.js';
import { Id, type ModelEntry, type RunEntry, type RunStatus } from './schemas.js';

/** How the bundle names the base model: a hub id, a path on the cluster, or a copy inside the bundle. */
export const BaseModelChoice = z.union([
  z.object({ kind: z.literal('auto') }).strict(),
  z.object({ kind: z.literal('hub'), id: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/) }).strict(),
  z.object({ kind: z.literal('path'), path: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('copy') }).strict(),
]);
export type BaseModelChoice = z.infer<typeof BaseModelChoice>;

/** The accelerate configs a bundle has; the driver uses the chosen one by default. */
export const AccelerateConfig = z.enum(['zero3', 'fsdp']);
export type AccelerateConfig = z.infer<typeof AccelerateConfig>;

export const RunExportParams = z
  .object({
    /** A workspace run (its run.json), or a config given directly (a run that does not exist yet). */
    runId: Id.optional(),
    config: RunConfig.optional(),
    target: z.literal('trl').default('trl'),
    /** An absolute folder; it must be empty or new unless `overwrite`. */
    outDir: z.string().min(1),
    overwrite: z.boolean().default(false),
    /** The accelerate config the driver uses by default (both are written). */
    accelerate: AccelerateConfig.default('zero3'),
    baseModel: BaseModelChoice.default({ kind: 'auto' }),
    /**
     * Replace the workbench's small-model defaults by the paper's 7B settings (lr 5e-7,
     * max_length 2048, max_prompt_length 1024, 512 new tokens; drift-paper.md §3).
     */
    paperScale: z.boolean().default(false),
    /** Slurm: nodes and GPUs per node (accelerate's num_processes on one node). */
    nodes: z.number().int().positive().max(1024).default(1),
    gpusPerNode: z.number().int().positive().max(64).default(8),
  })
  .strict()
  .refine((value) => (value.runId === undefined) !== (value.config === undefined), {
    message: 'give either runId or config',
  });
export type RunExportParams = z.input<typeof RunExportParams>;

export const TrlExportResult = z.object({
  outDir: z.string(),
  runId: z.string().nullable(),
  method: z.string(),
  /** Files written, relative to outDir. */
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative() })),
  counts: z.record(z.string(), z.number().int().nonnegative()),
  /** How the base model is referenced: a hub id, a path, or `base-model` (copied). */
  baseModel: z.object({ kind: z.enum(['hub', 'path']), reference: z.string() }),
  iterations: z.number().int().nonnegative(),
  notes: z.array(z.string()),
  /** What to run on the cluster. */
  commands: z.array(z.string()),
});
export type TrlExportResult = z.infer<typeof TrlExportResult>;

export const RunImportParams = z
  .object({
    /** The bundle folder (with bundle.json and outputs/iter-<k>/), absolute. */
    dir: z.string().min(1),
    /** The new run's id and display name (default: from the bundle). */
    runId: Id.optional(),
    name: z.string().min(1).max(200).optional(),
    /** Copy each iteration's checkpoint into the workspace as a model. Default true. */
    models: z.boolean().default(true),
  })
  .strict();
export type RunImportParams = z.input<typeof RunImportParams>;

/** What the `run.import` worker returns; its completion step adds the run and the models to the catalog. */
export interface RunImportWorkerResult {
  runId: string;
  name: string;
  status: RunStatus;
  config: RunConfig;
  datasetId: string;
  iterations: RunIterationSummary[];
  metricRows: number;
  models: { modelId: string; name: string; iteration: number; source: string; summary: ModelSummary }[];
  notes: string[];
}

/** The `run.import` job's final result, with the catalog entries made. */
export interface RunImportResult extends RunImportWorkerResult {
  run: RunEntry;
  modelEntries: ModelEntry[];
}

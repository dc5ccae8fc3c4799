/**
 * The one contract between the UI and the engine. Every host derives from this table:
 * the Electron IPC handlers (src-main/shell), the preload allowlist (src-main/preload),
 * the browser-mode HTTP routes (src-main/server) and the renderer client
 * (src-renderer/src/lib/api.ts). test/api/contract.test.ts checks they agree key by key.
 *
 * Channel names are `noun:verb`. Requests and responses are validated with these schemas
 * at the boundary (host side); inner code trusts typed values.
 */
import { z } from 'zod';
import {
  BackendInfo,
  DatasetEntry,
  Id,
  Job,
  JobKind,
  ModelEntry,
  PairSetEntry,
  ReportEntry,
  RunEntry,
  Settings,
  TokenizerSummary,
  WorkspaceInfo,
} from './schemas.js';
import { DetectResult, FormatInfo, ImportReport } from './datasets.js';
import { ModelSummary } from './models.js';
import { EvalResponsesRequest, EvalResponsesResponse, EvaluationMeta, EvaluationResult } from './eval.js';
import {
  RunDetail,
  RunIdRequest,
  RunMetricsRequest,
  RunMetricsResponse,
  RunPairsResponse,
  RunRowsRequest,
  RunSamplesResponse,
} from './runs.js';
import {
  CategoryInfo,
  ClassifierInfo,
  ConversationDetail,
  ConversationFilter,
  ConversationListResult,
  DecisionStatus,
  DsatPair,
  ExportFormat,
  ExportResult,
  MiningReport,
  PairDecision,
  PairEdit,
  PairFilter,
  PairListResult,
  PairSetManifest,
  PairSort,
  RuleInfo,
  Tag,
} from './signals.js';
import type { ChannelName } from './names.js';

const Empty = z.object({}).strict();

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** Which host serves the UI. */
  host: z.enum(['electron', 'browser']),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const contract = {
  'app:info': { request: Empty, response: AppInfo },
  'backend:info': { request: Empty, response: BackendInfo },
  'workspace:info': { request: Empty, response: WorkspaceInfo },
  'settings:get': { request: Empty, response: Settings },
  'settings:update': { request: Settings.partial().strict(), response: Settings },
  'dataset:list': { request: Empty, response: z.array(DatasetEntry) },
  /** The import formats the engine knows (for pickers and `drift-wb formats`). */
  'dataset:formats': { request: Empty, response: z.array(FormatInfo) },
  /**
   * Reads the first records of the files (bounded), guesses the format, and returns a preview of
   * normalised conversations, the rows rejected so far and the field listing for a mapping step.
   */
  'dataset:detect': {
    request: z
      .object({
        paths: z.array(z.string().min(1).max(4096)).min(1).max(1000),
        format: z.string().max(64).optional(),
        map: z.record(z.string().max(64), z.string().max(512)).optional(),
      })
      .strict(),
    response: DetectResult,
  },
  /** A dataset's catalog entry and its import report. */
  'dataset:get': {
    request: z.object({ id: Id }).strict(),
    response: z.object({ entry: DatasetEntry, report: ImportReport.nullable() }),
  },
  /** Removes a dataset: its catalog entry and its folder. */
  'dataset:delete': { request: z.object({ id: Id }).strict(), response: z.object({ deleted: z.boolean() }) },
  /** The SAT/DSAT rubric (categories with definitions and sources) and every rule of the rules detector. */
  'signals:rubric': {
    request: Empty,
    response: z.object({ categories: z.array(CategoryInfo), rules: z.array(RuleInfo) }),
  },
  /** The dataset's mining report (counts, categories, agreement with imported labels); null before mining. */
  'signals:report': { request: z.object({ datasetId: Id }).strict(), response: MiningReport.nullable() },
  /** Classifiers trained in this workspace (`signals.train` jobs). */
  'classifier:list': { request: Empty, response: z.array(ClassifierInfo) },
  /** One page of a dataset's conversations matching the filter, with facet counts. */
  'conversation:list': {
    request: z
      .object({
        datasetId: Id,
        filter: ConversationFilter.default(() => ({})),
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    response: ConversationListResult,
  },
  /** A whole conversation with every detector's signals and the pairs made from it. */
  'conversation:get': {
    request: z.object({ datasetId: Id, id: z.string().min(1).max(256) }).strict(),
    response: ConversationDetail,
  },
  /** One page of a dataset's DSAT pairs matching the filter, with facets and chart data. */
  'pair:list': {
    request: z
      .object({
        datasetId: Id,
        filter: PairFilter.default(() => ({})),
        sort: PairSort.default(() => PairSort.parse({})),
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    response: PairListResult,
  },
  'pair:get': {
    request: z.object({ datasetId: Id, id: z.string().min(1).max(256) }).strict(),
    response: z.object({ pair: DsatPair, decision: PairDecision }),
  },
  /**
   * Records one decision batch on the listed pairs, or on every pair matching `filter` (bulk).
   * Omitted fields keep their value; `edit: null` drops an edit; `tags` replaces, `addTags` and
   * `removeTags` adjust. Decisions persist in the dataset's decisions.jsonl.
   */
  'pair:decide': {
    request: z
      .object({
        datasetId: Id,
        pairIds: z.array(z.string().min(1).max(256)).min(1).max(5000).optional(),
        filter: PairFilter.optional(),
        status: DecisionStatus.optional(),
        edit: PairEdit.nullable().optional(),
        tags: z.array(Tag).max(100).optional(),
        addTags: z.array(Tag).max(100).optional(),
        removeTags: z.array(Tag).max(100).optional(),
        note: z.string().max(10_000).optional(),
      })
      .strict()
      .refine((request) => (request.pairIds === undefined) !== (request.filter === undefined), {
        message: 'give either pairIds or filter',
      }),
    response: z.object({
      /** The batch id (for undo); null when nothing changed. */
      batch: z.string().nullable(),
      updated: z.number().int().nonnegative(),
      /** The new decisions by pair id (only for batches of at most 1000 pairs). */
      decisions: z.record(z.string(), PairDecision),
    }),
  },
  /** Reverts the latest decision batch not yet undone. */
  'pair:undo': {
    request: z.object({ datasetId: Id }).strict(),
    response: z.object({
      batch: z.string().nullable(),
      restored: z.number().int().nonnegative(),
      /** The restored pairs (at most 1000 ids listed). */
      pairIds: z.array(z.string()),
    }),
  },
  /**
   * Writes DRIFT files (dsat_data.jsonl, seed-data/, sat_data.jsonl) or TRL files
   * (preference.jsonl, unpaired.jsonl) for a dataset's pairs matching `filter`, or for a pair set.
   * `outDir` must be absolute; by default it is a new folder under `<workspace>/exports/`.
   */
  'pair:export': {
    request: z
      .object({
        datasetId: Id.optional(),
        pairSet: z.string().max(160).optional(),
        format: ExportFormat,
        outDir: z.string().min(1).max(4096).optional(),
        filter: PairFilter.optional(),
        includeSat: z.boolean().default(true),
        seedTestSize: z.number().int().nonnegative().max(100_000).default(1),
        overwrite: z.boolean().default(false),
      })
      .strict()
      .refine((request) => (request.datasetId === undefined) !== (request.pairSet === undefined), {
        message: 'give either datasetId or pairSet',
      }),
    response: ExportResult,
  },
  /** Freezes the pairs matching `filter` (edits applied) as the next version of the named pair set. */
  'pairset:freeze': {
    request: z.object({ datasetId: Id, name: Id, filter: PairFilter.default(() => ({})) }).strict(),
    response: PairSetEntry,
  },
  'pairset:list': { request: Empty, response: z.array(PairSetEntry) },
  'pairset:get': {
    request: z.object({ id: z.string().min(1).max(160) }).strict(),
    response: z.object({ entry: PairSetEntry, manifest: PairSetManifest }),
  },
  'model:list': { request: Empty, response: z.array(ModelEntry) },
  /** A workspace model: its entry, HF config.json, generation_config.json, tokenizer summary and chat template, files. */
  'model:get': {
    request: z.object({ id: Id }).strict(),
    response: z.object({
      entry: ModelEntry,
      config: z.record(z.string(), z.unknown()),
      generationConfig: z.record(z.string(), z.unknown()).nullable(),
      tokenizer: TokenizerSummary.nullable(),
      chatTemplate: z.string().nullable(),
      files: z.array(z.object({ name: z.string(), bytes: z.number().int().nonnegative() })),
    }),
  },
  /**
   * What a local HF folder holds, before importing it (the Models view's path field in browser mode,
   * or the folder the native dialog picked): architecture, weights, dtype, tokenizer. Reads config.json,
   * the safetensors headers and the tokenizer; loads no weights.
   */
  'model:inspect': {
    request: z.object({ path: z.string().min(1).max(4096) }).strict(),
    response: ModelSummary.extend({ path: z.string(), config: z.record(z.string(), z.unknown()) }),
  },
  /** Removes a workspace model: its catalog entry and its folder. */
  'model:delete': { request: z.object({ id: Id }).strict(), response: z.object({ deleted: z.boolean() }) },
  'run:list': { request: Empty, response: z.array(RunEntry) },
  /** A run's config, status, position and finished iterations. */
  'run:get': { request: RunIdRequest, response: RunDetail },
  /** metrics.jsonl rows from line `after` on (poll with the returned `next`). */
  'run:metrics': { request: RunMetricsRequest, response: RunMetricsResponse },
  /** samples.jsonl rows (optionally of one iteration), paged. */
  'run:samples': { request: RunRowsRequest, response: RunSamplesResponse },
  /** iter-<k>/pairs.jsonl rows (iteration required: 0 is the seed set), paged. */
  'run:pairs': { request: RunRowsRequest, response: RunPairsResponse },
  /** Stop the run's job, keeping its checkpoints; status becomes paused. */
  'run:pause': { request: RunIdRequest, response: RunDetail },
  /** Start a job that continues a paused, failed or interrupted run from its last checkpoint. */
  'run:resume': { request: RunIdRequest, response: RunDetail },
  /** Stop the run for good (its checkpoints and models stay). */
  'run:cancel': { request: RunIdRequest, response: RunDetail },
  'report:list': { request: Empty, response: z.array(ReportEntry) },
  /** Evaluations on disk (`<workspace>/evaluations/<id>/`), newest first. */
  'eval:list': { request: Empty, response: z.array(EvaluationMeta) },
  /** An evaluation's meta and result, without the responses (every checkpoint's `samples` is empty; page them with eval:responses). */
  'eval:get': {
    request: z.object({ id: Id }).strict(),
    response: z.object({ meta: EvaluationMeta, result: EvaluationResult }),
  },
  /** The responses behind a chart mark: a checkpoint's samples filtered by prompt, reward range or outcome, paged. */
  'eval:responses': { request: EvalResponsesRequest, response: EvalResponsesResponse },
  /** A built report: its catalog entry, its files and, with `html: true`, report.html's text (for a preview). */
  'report:get': {
    request: z.object({ id: Id, html: z.boolean().default(false) }).strict(),
    response: z.object({
      entry: ReportEntry,
      files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative() })),
      html: z.string().nullable(),
    }),
  },
  /** Copies a report's files into an absolute folder; files of the same names are replaced only with `overwrite`. */
  'report:export': {
    request: z.object({ id: Id, destDir: z.string().min(1).max(4096), overwrite: z.boolean().default(false) }).strict(),
    response: z.object({ destDir: z.string(), files: z.array(z.string()) }),
  },
  /**
   * Prints a report's report.html to report.pdf and adds `pdf` to its entry. The desktop app prints
   * with Electron (webContents.printToPDF); browser mode and the CLI with a system Chromium, and answer
   * report_pdf_unavailable when there is none.
   */
  'report:pdf': {
    request: z.object({ id: Id }).strict(),
    response: z.object({ entry: ReportEntry, file: z.string() }),
  },
  'job:list': { request: Empty, response: z.array(Job) },
  'job:get': { request: z.object({ id: Id }).strict(), response: Job },
  'job:start': {
    request: z.object({ kind: JobKind, params: z.record(z.string(), z.unknown()).default({}) }).strict(),
    response: Job,
  },
  'job:cancel': { request: z.object({ id: Id }).strict(), response: Job },
  /** Native file or folder picker. Desktop only; browser mode answers unsupported_in_browser_mode. */
  'dialog:open': {
    request: z
      .object({
        kind: z.enum(['file', 'folder']),
        title: z.string().max(200).optional(),
        multiple: z.boolean().optional(),
        filters: z
          .array(
            z.object({ name: z.string().max(100), extensions: z.array(z.string().regex(/^[A-Za-z0-9.*]{1,16}$/)) }),
          )
          .max(20)
          .optional(),
      })
      .strict(),
    response: z.object({ canceled: z.boolean(), paths: z.array(z.string()) }),
  },
  /** Opens an https:// link in the system browser, through the one checked function. */
  'link:open': {
    request: z.object({ url: z.string().max(2048) }).strict(),
    response: z.object({ opened: z.boolean() }),
  },
} as const satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Contract[C]['response']>;

export const CHANNELS = Object.keys(contract) as Channel[];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/**
 * Channels each host implements itself (native dialogs, the system browser); every other
 * channel is served by the engine's handler table. Browser mode answers dialog:open with
 * unsupported_in_browser_mode.
 */
export const HOST_CHANNELS = ['dialog:open', 'link:open'] as const;
export type HostChannel = (typeof HOST_CHANNELS)[number];
export type EngineChannel = Exclude<Channel, HostChannel>;

/** A handler for one channel: takes the parsed request, returns the response or throws AppFailure. */
export type Handler<C extends Channel> = (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;
/** A handler table for one host: one async function per channel. */
export type Handlers = { [C in Channel]: Handler<C> };
export type EngineHandlers = { [C in EngineChannel]: Handler<C> };
export type HostHandlers = { [C in HostChannel]: Handler<C> };

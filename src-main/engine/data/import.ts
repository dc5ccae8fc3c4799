/**
 * The `dataset.import` job: streams every file, normalises each record to the canonical
 * schema, and writes `datasets/<id>/conversations.jsonl` and `import-report.json`.
 *
 * Atomic per dataset: everything is written into `datasets/<id>.staging-<pid>-<random>/`,
 * fsynced, and renamed to `datasets/<id>/` only when the import succeeded. A failed or
 * cancelled import removes its staging folder, so earlier datasets are never touched and no
 * half dataset is ever visible. The host's completion step then adds the catalog entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  AppFailure,
  type ImportErrorCode,
  type ImportFileReport,
  type ImportReport,
  type RowError,
} from '../../api/index.js';
import type { JobHandler } from '../jobs/types.js';
import { fsyncFolder, isProcessAlive, writeFileAtomic } from '../workspace/atomic.js';
import { datasetDir, ENTRY_FOLDERS } from '../workspace/layout.js';
import { expandPaths } from './files.js';
import { checkMapping, findFormat } from './formats/index.js';
import { loadLanguageDetector } from './language.js';
import { resolveLimits } from './limits.js';
import { ConversationFinisher, ImportTally } from './pipeline.js';
import { FileReader } from './reader.js';
import { JsonlWriter } from './writer.js';

export const CONVERSATIONS_FILE = 'conversations.jsonl';
export const REPORT_FILE = 'import-report.json';
const STAGING = /\.staging-(\d+)-[0-9a-f]+$/;
const PROGRESS_INTERVAL_MS = 200;
/** Errors carried in the job result (the report keeps up to `maxReportedErrors`). */
const RESULT_ERRORS = 20;

const LimitsParams = z
  .object({
    maxLineBytes: z.number().int().positive(),
    maxRecordBytes: z.number().int().positive(),
    maxDecompressedBytes: z.number().int().positive(),
    maxCompressionRatio: z.number().positive(),
    ratioGraceBytes: z.number().int().nonnegative(),
    parquetMaxRows: z.number().int().positive(),
    parquetMaxRowGroupBytes: z.number().int().positive(),
    parquetMaxPageBytes: z.number().int().positive(),
    parquetMaxMetadataBytes: z.number().int().positive(),
    maxMessages: z.number().int().positive(),
    maxReportedErrors: z.number().int().nonnegative(),
  })
  .partial()
  .strict();

/** Parameters of the `dataset.import` job. */
export const ImportParams = z
  .object({
    paths: z.array(z.string().min(1).max(4096)).min(1).max(1000),
    /** A format name or alias; detected per file when absent. */
    format: z.string().max(64).optional(),
    /** Field mapping, target → dotted path (e.g. `{ "prompt": "question" }`). */
    map: z.record(z.string(), z.string()).optional(),
    /** Replace personal data by placeholders in the stored conversations. */
    redact: z.boolean().default(false),
    name: z.string().min(1).max(200).optional(),
    /** Detect the language of each conversation (the language facet). */
    language: z.boolean().default(true),
    /** Lower limits (tests); the defaults are in limits.ts. */
    limits: LimitsParams.optional(),
  })
  .strict();
export type ImportParams = z.input<typeof ImportParams>;

/** What the job returns (and the completion step turns into a catalog entry). */
export const ImportResult = z.object({
  datasetId: z.string(),
  name: z.string(),
  format: z.string(),
  conversations: z.number().int(),
  messages: z.number().int(),
  rejected: z.number().int(),
  duplicates: z.number().int(),
  languages: z.record(z.string(), z.number()),
  piiCounts: z.record(z.string(), z.number()),
  redacted: z.boolean(),
  sourceFiles: z.array(z.string()),
  errorCounts: z.record(z.string(), z.number()),
  /** The first rejected rows; the report holds more. */
  errors: z.array(z.unknown()),
  reportPath: z.string(),
  durationMs: z.number(),
  bytes: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const importDataset: JobHandler = async (params, context) => {
  const parsed = ImportParams.safeParse(params);
  if (!parsed.success) {
    throw new AppFailure(
      'job_invalid_params',
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  }
  const options = parsed.data;
  const limits = resolveLimits(options.limits);
  const forced = options.format ? findFormat(options.format) : undefined;
  const mapping = options.map ? checkMapping(options.map) : null;
  const startedAt = new Date();

  context.progress('listing files', 0, 0);
  const { files } = await expandPaths(options.paths);
  if (files.length === 0) {
    throw new AppFailure(
      'dataset_empty',
      `No JSON, JSONL, CSV, TSV or Parquet file under ${options.paths.join(', ')}.`,
    );
  }
  const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  const name = options.name ?? defaultName(options.paths[0]!);
  const datasetId = newDatasetId(name);
  const datasets = path.join(context.workspaceDir, ENTRY_FOLDERS.datasets);
  await mkdir(datasets, { recursive: true });
  await removeStaleStaging(datasets);
  const finalDir = datasetDir(context.workspaceDir, datasetId);
  const staging = `${finalDir}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging);

  let writer: JsonlWriter | null = null;
  try {
    writer = await JsonlWriter.create(path.join(staging, CONVERSATIONS_FILE));
    const tally = new ImportTally(limits.maxReportedErrors);
    const language = options.language ? await loadLanguageDetector() : null;
    const finisher = new ConversationFinisher({ redact: options.redact, language, limits });
    const fileReports: ImportFileReport[] = [];
    let bytesBefore = 0;
    let lastProgress = 0;
    const report = (reader: FileReader | null, force = false) => {
      const now = Date.now();
      if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      const done = Math.min(totalBytes, bytesBefore + (reader?.bytesRead() ?? 0));
      const message = `${tally.rows} rows, ${tally.conversations} conversations, ${tally.rejected} rejected`;
      context.progress('importing', done, totalBytes, message);
    };

    for (const file of files) {
      context.throwIfCancelled();
      const reader = new FileReader(file, { format: forced, mapping, limits, signal: context.signal });
      const before = { rows: tally.rows, conversations: tally.conversations, rejected: tally.rejected };
      for await (const batch of reader.outcomes()) {
        context.throwIfCancelled();
        for (const outcome of batch) {
          if (outcome.kind === 'blank') {
            tally.blankLines++;
          } else if (outcome.kind === 'error') {
            tally.reject(outcome.error, outcome.row);
          } else {
            const finished = finisher.finish(outcome.draft, outcome.location, reader.format!.name, outcome.group);
            if (!finished.ok) {
              tally.reject(finished.error, true);
              continue;
            }
            tally.rows++;
            tally.accept(finished.conversation);
            await writer.write(finished.conversation);
          }
        }
        report(reader);
      }
      bytesBefore += file.bytes;
      fileReports.push({
        ...file,
        format: reader.format?.name ?? null,
        rows: tally.rows - before.rows,
        conversations: tally.conversations - before.conversations,
        rejected: tally.rejected - before.rejected,
      });
      report(null, true);
    }
    context.throwIfCancelled();
    await writer.close();
    writer = null;

    if (tally.conversations === 0) throw nothingImported(tally.errors, tally.errorCounts);

    const finishedAt = new Date();
    const formats = tally.formats;
    const format = Object.entries(formats).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
    const importReport: ImportReport = {
      datasetId,
      name,
      format,
      formats,
      mapping,
      redacted: options.redact,
      files: fileReports,
      counts: {
        files: files.length,
        rows: tally.rows,
        conversations: tally.conversations,
        messages: tally.messages,
        rejected: tally.rejected,
        duplicates: finisher.duplicates,
        blankLines: tally.blankLines,
        bytes: totalBytes,
      },
      pii: { conversations: tally.piiConversations, counts: tally.pii },
      languages: tally.languages,
      duplicates: { count: finisher.duplicates, examples: tally.duplicateExamples },
      errors: tally.errors,
      errorCounts: tally.errorCounts,
      errorsTruncated: tally.errorsTruncated,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    };
    await writeFileAtomic(path.join(staging, REPORT_FILE), `${JSON.stringify(importReport, null, 2)}\n`);
    context.throwIfCancelled();
    await rename(staging, finalDir);
    await fsyncFolder(datasets);

    const result: ImportResult = {
      datasetId,
      name,
      format,
      conversations: tally.conversations,
      messages: tally.messages,
      rejected: tally.rejected,
      duplicates: finisher.duplicates,
      languages: tally.languages,
      piiCounts: tally.pii,
      redacted: options.redact,
      sourceFiles: files.map((file) => file.path),
      errorCounts: tally.errorCounts,
      errors: tally.errors.slice(0, RESULT_ERRORS),
      reportPath: `${ENTRY_FOLDERS.datasets}/${datasetId}/${REPORT_FILE}`,
      durationMs: importReport.durationMs,
      bytes: totalBytes,
    };
    return result;
  } catch (error) {
    await writer?.abandon();
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
};

/** Import errors that are also job errors (api ERROR_CODES) when they leave nothing to import. */
const FILE_LEVEL_CODES = ['format_unrecognised', 'decompression_bomb', 'parquet_limits_exceeded'] as const;
type FileLevelCode = (typeof FILE_LEVEL_CODES)[number];

/** The failure of an import that produced nothing: the file-level cause if there is one. */
function nothingImported(errors: readonly RowError[], counts: Partial<Record<ImportErrorCode, number>>): AppFailure {
  const summary = Object.entries(counts)
    .map(([code, count]) => `${count} ${code}`)
    .join(', ');
  const details = { errors: errors.slice(0, RESULT_ERRORS), errorCounts: counts };
  const fileLevel = errors.find((error) => (FILE_LEVEL_CODES as readonly string[]).includes(error.code));
  if (fileLevel) {
    return new AppFailure(fileLevel.code as FileLevelCode, `${fileLevel.file}: ${fileLevel.message}`, details);
  }
  return new AppFailure('dataset_empty', `No conversation could be imported (${summary || 'no records'}).`, details);
}

function defaultName(first: string): string {
  const base = path.basename(path.resolve(first));
  return (
    base.replace(/(\.gz)$/i, '').replace(/\.(jsonl|ndjson|jsonlines|json|csv|tsv|tab|parquet|pq)$/i, '') || 'dataset'
  );
}

/** `<slug>-<yyyymmddhhmmss>-<random>`, a valid catalog id. */
export function newDatasetId(name: string): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'dataset';
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  return `${slug}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Removes staging folders of imports whose process died (a live process cleans its own). */
async function removeStaleStaging(datasets: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(datasets);
  } catch {
    return;
  }
  for (const name of names) {
    const match = STAGING.exec(name);
    if (match && Number(match[1]) !== process.pid && !isProcessAlive(Number(match[1]))) {
      await rm(path.join(datasets, name), { recursive: true, force: true });
    }
  }
}

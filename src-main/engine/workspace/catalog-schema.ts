/**
 * The catalog's shape on disk (workbench.json), its version history and the one function that
 * turns the file's bytes into a validated {@link CatalogData} or says exactly what is wrong.
 * Pure: no file system access, so every bad-file case is testable on bytes.
 */
import { z } from 'zod';
import {
  AppFailure,
  DatasetEntry,
  DEFAULT_SETTINGS,
  Job,
  ModelEntry,
  PairSetEntry,
  ReportEntry,
  RunEntry,
  Settings,
} from '../../api/index.js';

/** The schema version this build reads and writes. */
export const CATALOG_SCHEMA_VERSION = 1;

const SECTIONS_WITH_IDS = ['datasets', 'models', 'runs', 'reports', 'jobs', 'pairSets'] as const;

/** Settings missing from an older file take their defaults key by key. */
function withDefaultSettings(value: unknown): unknown {
  if (value === undefined) return { ...DEFAULT_SETTINGS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return { ...DEFAULT_SETTINGS, ...value };
}

/**
 * workbench.json, version 1. Sections missing from a file get their defaults; unknown keys are
 * dropped. Ids are unique within each section.
 */
export const CatalogSchema = z
  .object({
    schemaVersion: z.literal(CATALOG_SCHEMA_VERSION),
    datasets: z.array(DatasetEntry).default(() => []),
    models: z.array(ModelEntry).default(() => []),
    runs: z.array(RunEntry).default(() => []),
    reports: z.array(ReportEntry).default(() => []),
    jobs: z.array(Job).default(() => []),
    /** Curation decisions, keyed by pair id; owned by the curation feature. */
    curation: z.record(z.string(), z.unknown()).default(() => ({})),
    /** Frozen pair sets (engine/curation); the pairs live in `<workspace>/pairsets/<name>/v<k>/`. */
    pairSets: z.array(PairSetEntry).default(() => []),
    settings: z.preprocess(withDefaultSettings, Settings),
  })
  .superRefine((catalog, context) => {
    for (const section of SECTIONS_WITH_IDS) {
      const seen = new Set<string>();
      catalog[section].forEach((entry, index) => {
        if (seen.has(entry.id)) {
          context.addIssue({ code: 'custom', path: [section, index, 'id'], message: `duplicate id "${entry.id}"` });
        }
        seen.add(entry.id);
      });
    }
  });

export type CatalogData = z.output<typeof CatalogSchema>;

/** An empty catalog with default settings. */
export function defaultCatalog(): CatalogData {
  return CatalogSchema.parse({ schemaVersion: CATALOG_SCHEMA_VERSION });
}

/**
 * Upgrades, keyed by the version they upgrade from; each returns the next version's shape and
 * {@link decodeCatalog} validates the final result. Add one entry per schema change.
 *
 * - 0 → 1. Version 0 is the pre-release shape (development builds before 0.1.0): no
 *   `schemaVersion` key, and training runs were stored under `experiments` instead of `runs`.
 */
export const migrations: Record<number, (data: unknown) => unknown> = {
  0: (data) => {
    const { experiments, ...rest } = data as Record<string, unknown>;
    return { ...rest, runs: experiments ?? rest['runs'] ?? [], schemaVersion: 1 };
  },
};

export type CatalogDecoding =
  | {
      ok: true;
      data: CatalogData;
      /** The file started with a UTF-8 byte order mark. */
      bom: boolean;
      /** The version the file was migrated from, or null if it was current. */
      migratedFrom: number | null;
    }
  | {
      ok: false;
      /** What is wrong, as the end of a sentence that starts with the file name. */
      problem: string;
      details?: unknown;
    };

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Decodes workbench.json bytes: strict UTF-8, JSON, an object root, migrations, the schema.
 * A file written by a newer workbench is not corrupt and is not touched: that throws.
 * @throws AppFailure `catalog_newer_version`
 */
export function decodeCatalog(bytes: Uint8Array, file: string): CatalogDecoding {
  if (bytes.length === 0) return { ok: false, problem: 'is empty (0 bytes)' };
  const bom = UTF8_BOM.every((byte, index) => bytes[index] === byte);
  const body = bom ? bytes.subarray(UTF8_BOM.length) : bytes;

  let text: string;
  try {
    // ignoreBOM: a second BOM is content, and is then a JSON syntax error.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    const offset = firstInvalidUtf8Offset(body) + (bom ? UTF8_BOM.length : 0);
    return { ok: false, problem: `is not valid UTF-8 text (invalid bytes near offset ${offset})`, details: { offset } };
  }
  if (text.trim() === '') return { ok: false, problem: `contains only whitespace (${bytes.length} bytes)` };

  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problem: `is not valid JSON: ${describeJsonError(error, text)}`,
      details: { bytes: bytes.length },
    };
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    return { ok: false, problem: `holds ${describeValue(root)} at the top level instead of an object` };
  }

  const declared = (root as Record<string, unknown>)['schemaVersion'];
  if (declared !== undefined && (typeof declared !== 'number' || !Number.isSafeInteger(declared) || declared < 0)) {
    return { ok: false, problem: `has schemaVersion ${JSON.stringify(declared)}, which is not a version number` };
  }
  const version = declared ?? 0;
  if (version > CATALOG_SCHEMA_VERSION) {
    throw new AppFailure(
      'catalog_newer_version',
      `${file} has schemaVersion ${version}, but this workbench reads versions up to ${CATALOG_SCHEMA_VERSION}. ` +
        'Open it with a newer workbench; the file was left untouched.',
      { file, schemaVersion: version, supported: CATALOG_SCHEMA_VERSION },
    );
  }

  let current: unknown = root;
  for (let from = version; from < CATALOG_SCHEMA_VERSION; from++) {
    const migrate = migrations[from];
    if (!migrate) return { ok: false, problem: `has schemaVersion ${from}, and no migration from it exists` };
    try {
      current = migrate(current);
    } catch (error) {
      return { ok: false, problem: `could not be migrated from version ${from}: ${(error as Error).message}` };
    }
  }

  const parsed = CatalogSchema.safeParse(current);
  if (!parsed.success) {
    return {
      ok: false,
      problem: `does not match the catalog schema: ${describeIssues(parsed.error.issues)}`,
      details: { issues: parsed.error.issues },
    };
  }
  return { ok: true, data: parsed.data, bom, migratedFrom: version < CATALOG_SCHEMA_VERSION ? version : null };
}

/** "runs.0.id: duplicate id "a"; settings.theme: ..." (at most five issues). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  return shown.join('; ');
}

function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const short = message.length > 160 ? `${message.slice(0, 157)}...` : message;
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const offset = Number(position[1]);
    const before = text.slice(0, offset).split('\n');
    return `${short} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
  }
  if (/end of JSON input/i.test(message)) return `${short} (the text ends after ${text.length} characters: truncated?)`;
  return short;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}

/** Offset of the first byte that breaks UTF-8: the longest prefix that still decodes as a stream. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    try {
      // stream: an incomplete sequence at the end of the prefix is not an error.
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, middle), { stream: true });
      low = middle;
    } catch {
      high = middle - 1;
    }
  }
  return low;
}

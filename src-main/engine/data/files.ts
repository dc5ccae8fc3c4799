/**
 * What to read: the paths a user named, expanded to data files. Folders are walked recursively
 * in sorted order; hidden entries and symbolic links inside them are skipped, and files of other
 * types are listed as skipped. A file named explicitly with an unknown extension is sniffed.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AppFailure, type ContainerKind, type SourceFile } from '../../api/index.js';

const EXTENSIONS: Record<string, ContainerKind> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.jsonlines': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};
const SNIFF_BYTES = 64 * 1024;

/** The container and compression an extension names, or null. */
export function containerOf(file: string): { container: ContainerKind; gzip: boolean } | null {
  const lower = file.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const container = EXTENSIONS[path.extname(base)];
  return container ? { container, gzip } : null;
}

export interface ExpandedPaths {
  files: SourceFile[];
  /** Files in the named folders that are not data files, relative like `files[].relative`. */
  skipped: string[];
}

/**
 * Expands `paths` (files and folders) to the data files to read.
 * @throws AppFailure `source_unreadable` when a path does not exist or cannot be read.
 */
export async function expandPaths(paths: readonly string[]): Promise<ExpandedPaths> {
  const files: SourceFile[] = [];
  const skipped: string[] = [];
  for (const given of paths) {
    const absolute = path.resolve(given);
    const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
      throw new AppFailure('source_unreadable', `Cannot read ${absolute}: ${error.code ?? error.message}.`, {
        path: absolute,
      });
    });
    const parent = path.dirname(absolute);
    if (info.isDirectory()) {
      await walk(absolute, parent, files, skipped);
    } else if (info.isFile()) {
      const kind = containerOf(absolute) ?? (await sniffContainer(absolute));
      if (!kind) {
        throw new AppFailure(
          'source_unreadable',
          `${absolute} is not a JSON, JSONL, CSV, TSV or Parquet file (optionally .gz).`,
          { path: absolute },
        );
      }
      files.push({ path: absolute, relative: relativeName(parent, absolute), ...kind, bytes: info.size });
    } else {
      throw new AppFailure('source_unreadable', `${absolute} is neither a file nor a folder.`, { path: absolute });
    }
  }
  return { files, skipped };
}

async function walk(folder: string, root: string, files: SourceFile[], skipped: string[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const absolute = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      await walk(absolute, root, files, skipped);
    } else if (entry.isFile()) {
      const kind = containerOf(entry.name);
      if (!kind) {
        skipped.push(relativeName(root, absolute));
        continue;
      }
      const { size } = await stat(absolute);
      files.push({ path: absolute, relative: relativeName(root, absolute), ...kind, bytes: size });
    }
  }
}

function relativeName(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Guesses the container of a file with an unfamiliar extension from its first bytes. */
export async function sniffContainer(file: string): Promise<{ container: ContainerKind; gzip: boolean } | null> {
  let head = await readHead(file, SNIFF_BYTES);
  let gzip = false;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    gzip = true;
    try {
      head = gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: a truncated prefix is fine */ });
    } catch {
      return null;
    }
  }
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return gzip ? null : { container: 'parquet', gzip };
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '[') return { container: 'json', gzip };
  if (first === '{') {
    const line = text.trimStart().split('\n', 1)[0] ?? '';
    try {
      JSON.parse(line);
      return { container: 'jsonl', gzip };
    } catch {
      return { container: 'json', gzip };
    }
  }
  const line = text.split('\n', 1)[0] ?? '';
  if (line.includes('\t')) return { container: 'tsv', gzip };
  if (line.includes(',')) return { container: 'csv', gzip };
  return null;
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    total += chunk.length;
  }
  return Buffer.concat(chunks, total);
}

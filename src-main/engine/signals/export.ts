/**
 * Pairs as training files.
 *
 * DRIFT (github.com/cacayaya/DRIFT `data/`, drift-paper.md §4.2; Msg = {role, content}):
 * - `dsat_data.jsonl`: `{prompt: Msg[], rejected: [Msg], user_preference: Msg}` per DSAT pair
 *   (seed pairs included: they are DSAT records too). Exactly the keys gen-drift.py reads.
 * - `seed-data/train.jsonl`, `seed-data/test.jsonl`: `{prompt: Msg[], chosen: [Msg], rejected: [Msg]}`
 *   per seed pair; the first `seedTestSize` go to test (gen-drift.py likewise takes the first
 *   pairs for its test split).
 * - `sat_data.jsonl`: `{prompt: Msg[], chosen: [Msg]}` per SAT record (the file's real shape is
 *   unknown; this is the inferred shape, drift-paper.md §4.2 [I]).
 *
 * TRL (huggingface.co/docs/trl dataset formats, conversational):
 * - `preference.jsonl`: `{prompt: Msg[], chosen: [Msg], rejected: [Msg]}` per seed pair (a DSAT pair
 *   without a chosen answer is not a preference pair; DRIFT samples its chosen answer on-policy);
 * - `unpaired.jsonl`: `{prompt: Msg[], completion: [Msg], label: boolean}` (KTO's unpaired
 *   preference format): each DSAT pair's rejected answer with `false`, each SAT record's answer
 *   with `true`.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  AppFailure,
  type DsatPair,
  type ExportFormat,
  type ExportResult,
  type Message,
  type SatRecord,
} from '../../api/index.js';
import { errorCode } from '../workspace/atomic.js';
import { JsonlWriter } from './jsonl.js';

export interface ChatMessage {
  role: Message['role'];
  content: string;
}

const chat = (message: Message): ChatMessage => ({ role: message.role, content: message.content });
const assistant = (message: Message): ChatMessage => ({ role: 'assistant', content: message.content });

/** A `dsat_data.jsonl` row. */
export function driftDsatRow(pair: DsatPair): {
  prompt: ChatMessage[];
  rejected: ChatMessage[];
  user_preference: ChatMessage;
} {
  return {
    prompt: pair.context.map(chat),
    rejected: [assistant(pair.rejected)],
    user_preference: { role: 'user', content: pair.feedback.content },
  };
}

/** A seed-data row, or a TRL preference row (the same shape); undefined for a pair without `chosen`. */
export function preferenceRow(
  pair: DsatPair,
): { prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] } | undefined {
  if (!pair.chosen) return undefined;
  return { prompt: pair.context.map(chat), chosen: [assistant(pair.chosen)], rejected: [assistant(pair.rejected)] };
}

/** A `sat_data.jsonl` row. */
export function driftSatRow(record: SatRecord): { prompt: ChatMessage[]; chosen: ChatMessage[] } {
  return { prompt: record.context.map(chat), chosen: [assistant(record.response)] };
}

/** A TRL unpaired (KTO) row. */
export function unpairedRow(
  context: readonly Message[],
  completion: Message,
  label: boolean,
): { prompt: ChatMessage[]; completion: ChatMessage[]; label: boolean } {
  return { prompt: context.map(chat), completion: [assistant(completion)], label };
}

export interface ExportOptions {
  format: ExportFormat;
  outDir: string;
  seedTestSize: number;
  overwrite: boolean;
}

const FILES: Record<ExportFormat, readonly string[]> = {
  drift: ['dsat_data.jsonl', 'seed-data/train.jsonl', 'seed-data/test.jsonl', 'sat_data.jsonl'],
  trl: ['preference.jsonl', 'unpaired.jsonl'],
};

async function ensureTarget(outDir: string, overwrite: boolean, format: ExportFormat): Promise<void> {
  if (!path.isAbsolute(outDir) || outDir.includes('\0')) {
    throw new AppFailure(
      'path_outside_workspace',
      `The export folder must be an absolute path: ${JSON.stringify(outDir)}.`,
    );
  }
  try {
    const entries = await readdir(outDir);
    if (entries.length > 0 && !overwrite) {
      throw new AppFailure('export_target_not_empty', `${outDir} is not empty (${entries.length} entries).`, {
        outDir,
      });
    }
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  await mkdir(format === 'drift' ? path.join(outDir, 'seed-data') : outDir, { recursive: true });
}

/**
 * Streams pairs (and SAT records, when given) into the format's files in `outDir`. Each file is
 * written to a temp file and renamed into place when complete; on failure none is left half done.
 */
export async function exportPairs(
  pairs: AsyncIterable<DsatPair>,
  satRecords: AsyncIterable<SatRecord> | null,
  options: ExportOptions,
): Promise<ExportResult> {
  await ensureTarget(options.outDir, options.overwrite, options.format);
  const writers = new Map<string, JsonlWriter>();
  const names = FILES[options.format];
  try {
    for (const name of names) writers.set(name, await JsonlWriter.open(path.join(options.outDir, name)));
    const writer = (name: string) => writers.get(name)!;
    let seeds = 0;
    for await (const pair of pairs) {
      if (options.format === 'drift') {
        await writer('dsat_data.jsonl').write(driftDsatRow(pair));
        const seed = preferenceRow(pair);
        if (seed)
          await writer(seeds++ < options.seedTestSize ? 'seed-data/test.jsonl' : 'seed-data/train.jsonl').write(seed);
      } else {
        const preference = preferenceRow(pair);
        if (preference) await writer('preference.jsonl').write(preference);
        await writer('unpaired.jsonl').write(unpairedRow(pair.context, pair.rejected, false));
      }
    }
    if (satRecords) {
      for await (const record of satRecords) {
        if (options.format === 'drift') await writer('sat_data.jsonl').write(driftSatRow(record));
        else await writer('unpaired.jsonl').write(unpairedRow(record.context, record.response, true));
      }
    }
    const files: ExportResult['files'] = [];
    for (const [name, file] of writers) {
      await file.commit();
      files.push({ path: path.join(options.outDir, name), rows: file.lines });
    }
    return { format: options.format, outDir: options.outDir, files };
  } catch (error) {
    for (const file of writers.values()) await file.abort();
    throw error;
  }
}

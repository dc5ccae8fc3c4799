/**
 * The files of a dataset folder that mining and curation read and write
 * (`<workspace>/datasets/<id>/`, ARCHITECTURE.md "Workspace on disk").
 */
import path from 'node:path';
import { datasetDir } from '../workspace/index.js';

export const DATASET_FILES = {
  /** Canonical conversations, one per line (written by the import job). */
  conversations: 'conversations.jsonl',
  importReport: 'import-report.json',
  /** Every detector's non-neutral signals, in conversation order. */
  signals: 'signals.jsonl',
  /** DSAT and seed pairs, in conversation order. */
  pairs: 'pairs.jsonl',
  /** SAT records. */
  sat: 'sat.jsonl',
  miningReport: 'mining-report.json',
  /** Curation decisions: an append-only event log. */
  decisions: 'decisions.jsonl',
} as const;

export type DatasetFile = keyof typeof DATASET_FILES;

/** The path of one of a dataset's files. */
export function datasetFile(workspaceDir: string, datasetId: string, file: DatasetFile): string {
  return path.join(datasetDir(workspaceDir, datasetId), DATASET_FILES[file]);
}

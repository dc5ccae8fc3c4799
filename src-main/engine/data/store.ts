/** Reading and removing imported datasets in the workspace (the catalog is the host's). */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ImportReport } from '../../api/index.js';
import { datasetDir } from '../workspace/layout.js';
import { REPORT_FILE } from './import.js';

/** The dataset's import report, or null if it has none (or an unreadable one). */
export async function readImportReport(workspaceDir: string, id: string): Promise<ImportReport | null> {
  let text: string;
  try {
    text = await readFile(path.join(datasetDir(workspaceDir, id), REPORT_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = ImportReport.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Deletes the dataset's folder (nothing if it is already gone). */
export async function removeDatasetFolder(workspaceDir: string, id: string): Promise<void> {
  await rm(datasetDir(workspaceDir, id), { recursive: true, force: true });
}

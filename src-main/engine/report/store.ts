/**
 * Built reports in the workspace (host side): the catalog's list, a report's files, copying a
 * report to a folder the user picked, and adding a PDF printed by the host (the Electron shell
 * prints with webContents.printToPDF).
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, type ReportEntry } from '../../api/index.js';
import { errorCode, writeFileAtomic } from '../workspace/atomic.js';
import { reportDir, type Workspace } from '../workspace/index.js';
import { REPORT_FILES } from './build.js';
import { renderPdf, type PrintToPdf } from './pdf.js';

export interface ReportFile {
  /** Relative to the report folder, forward slashes. */
  path: string;
  bytes: number;
}

/** The workspace's reports, newest first. */
export function listReports(workspace: Workspace): ReportEntry[] {
  return [...workspace.catalog.data.reports].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function entryOf(workspace: Workspace, id: string): ReportEntry {
  const entry = workspace.catalog.data.reports.find((report) => report.id === id);
  if (!entry) throw new AppFailure('not_found', `No report ${id} in this workspace.`);
  return entry;
}

/**
 * The files of the report folder `<workspace>/reports/<id>/`, sorted by path.
 * @throws AppFailure `not_found` when the folder is missing.
 */
export async function reportFiles(workspaceDir: string, id: string): Promise<ReportFile[]> {
  const root = reportDir(workspaceDir, id);
  const files: ReportFile[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    for (const item of await readdir(folder, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${item.name}` : item.name;
      // Temp files of an interrupted write start with a dot; links are never followed.
      if (item.name.startsWith('.')) continue;
      if (item.isDirectory()) await walk(path.join(folder, item.name), relative);
      else if (item.isFile()) files.push({ path: relative, bytes: (await stat(path.join(folder, item.name))).size });
    }
  };
  try {
    await walk(root, '');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new AppFailure('not_found', `The folder of report ${id} is missing.`);
    throw error;
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** A report's catalog entry, its files and (when asked) the text of report.html for a preview. */
export async function getReport(
  workspace: Workspace,
  id: string,
  options: { html?: boolean } = {},
): Promise<{ entry: ReportEntry; files: ReportFile[]; html: string | null }> {
  const entry = entryOf(workspace, id);
  const files = await reportFiles(workspace.dir, id);
  let html: string | null = null;
  if (options.html && files.some((file) => file.path === REPORT_FILES.html)) {
    html = await readFile(path.join(reportDir(workspace.dir, id), REPORT_FILES.html), 'utf8');
  }
  return { entry, files, html };
}

/**
 * Copies the report's files into `destDir` (created if missing), keeping charts/ next to
 * report.md. Existing files of the same names are replaced only with `overwrite`.
 * @throws AppFailure `not_found`, `export_target_not_empty`
 */
export async function exportReport(
  workspaceDir: string,
  id: string,
  destDir: string,
  options: { overwrite?: boolean } = {},
): Promise<{ destDir: string; files: string[] }> {
  const source = reportDir(workspaceDir, id);
  const target = path.resolve(destDir);
  const files = await reportFiles(workspaceDir, id);
  if (!options.overwrite) {
    const clashes: string[] = [];
    for (const file of files) {
      try {
        await stat(path.join(target, ...file.path.split('/')));
        clashes.push(file.path);
      } catch {
        // free
      }
    }
    if (clashes.length > 0) {
      throw new AppFailure(
        'export_target_not_empty',
        `${target} already holds ${clashes.slice(0, 3).join(', ')}${clashes.length > 3 ? ` and ${clashes.length - 3} more` : ''}.`,
        { destDir: target, files: clashes },
      );
    }
  }
  const written: string[] = [];
  for (const file of files) {
    const destination = path.join(target, ...file.path.split('/'));
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFileAtomic(destination, await readFile(path.join(source, ...file.path.split('/'))));
    written.push(destination);
  }
  return { destDir: target, files: written };
}

/**
 * Prints the report's report.html with a host's printer (Electron's webContents.printToPDF),
 * writes report.pdf next to it and adds `pdf` to the catalog entry.
 * @throws AppFailure `not_found` when the report has no report.html.
 */
export async function addReportPdf(workspace: Workspace, id: string, printToPdf: PrintToPdf): Promise<ReportEntry> {
  entryOf(workspace, id);
  const folder = reportDir(workspace.dir, id);
  let html: string;
  try {
    html = await readFile(path.join(folder, REPORT_FILES.html), 'utf8');
  } catch {
    throw new AppFailure('not_found', `Report ${id} has no report.html to print; build it with the html format.`);
  }
  await writeFileAtomic(path.join(folder, REPORT_FILES.pdf), await renderPdf(html, printToPdf));
  const files = (await reportFiles(workspace.dir, id)).map((file) => file.path);
  const next = await workspace.catalog.update((draft) => {
    draft.reports = draft.reports.map((report) =>
      report.id === id
        ? {
            ...report,
            formats: (['html', 'pdf', 'md', 'json'] as const).filter(
              (format) => format === 'pdf' || report.formats.includes(format),
            ),
            files,
          }
        : report,
    );
  });
  return next.reports.find((report) => report.id === id)!;
}

/**
 * `report:export`: {@link exportReport} for a report in the catalog, to an absolute folder (the
 * UI passes what the folder dialog returned).
 * @throws AppFailure `not_found`, `invalid_request`, `export_target_not_empty`
 */
export async function exportCatalogReport(
  workspace: Workspace,
  id: string,
  destDir: string,
  options: { overwrite?: boolean } = {},
): Promise<{ destDir: string; files: string[] }> {
  entryOf(workspace, id);
  if (!path.isAbsolute(destDir)) {
    throw new AppFailure(
      'invalid_request',
      `The export folder must be an absolute path, not ${JSON.stringify(destDir)}.`,
    );
  }
  return exportReport(workspace.dir, id, destDir, options);
}

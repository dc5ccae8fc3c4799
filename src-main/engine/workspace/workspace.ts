/**
 * A workspace: one folder with the catalog and one sub-folder per dataset, model, run and report
 * (layout.ts). Opening it takes the write lock; close it to release.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, type WorkspaceInfo } from '../../api/index.js';
import { Catalog, type CatalogOpenOptions } from './catalog.js';
import { ENTRY_FOLDERS } from './layout.js';

export type WorkspaceOpenOptions = CatalogOpenOptions;

/** An open workspace folder and its catalog. */
export class Workspace {
  /** The workspace folder (absolute). */
  readonly dir: string;
  readonly catalog: Catalog;

  private constructor(dir: string, catalog: Catalog) {
    this.dir = dir;
    this.catalog = catalog;
  }

  /** See {@link openWorkspace}. */
  static async open(dir: string, options: WorkspaceOpenOptions = {}): Promise<Workspace> {
    const root = path.resolve(dir);
    if (!options.readOnly) {
      try {
        await mkdir(root, { recursive: true });
        for (const folder of Object.values(ENTRY_FOLDERS)) await mkdir(path.join(root, folder), { recursive: true });
      } catch (error) {
        throw new AppFailure(
          'workspace_unreadable',
          `Cannot create the workspace folder ${root}: ${(error as Error).message}`,
          { dir: root },
        );
      }
    }
    return new Workspace(root, await Catalog.open(root, options));
  }

  /** Path, schema version, visible warnings and entry counts, as the UI shows them. */
  info(): WorkspaceInfo {
    const data = this.catalog.data;
    return {
      path: this.dir,
      schemaVersion: data.schemaVersion,
      warnings: [...this.catalog.warnings],
      counts: {
        datasets: data.datasets.length,
        models: data.models.length,
        runs: data.runs.length,
        reports: data.reports.length,
        jobs: data.jobs.length,
      },
    };
  }

  /** Finishes queued catalog updates and releases the workspace lock. */
  close(): Promise<void> {
    return this.catalog.close();
  }
}

/**
 * Opens the workspace in `dir`: creates the folder and its datasets/, models/, runs/ and
 * reports/ sub-folders, takes the write lock, removes temp files of dead writers and opens
 * (creating or repairing) workbench.json. `readOnly` creates and locks nothing.
 * @throws AppFailure `workspace_locked`, `workspace_unreadable` or `catalog_newer_version`.
 */
export function openWorkspace(dir: string, options: WorkspaceOpenOptions = {}): Promise<Workspace> {
  return Workspace.open(dir, options);
}

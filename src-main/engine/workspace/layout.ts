/**
 * The workspace's on-disk layout (ARCHITECTURE.md, "Workspace on disk"):
 *
 *   <workspace>/workbench.json     lowdb catalog (metadata only)
 *   <workspace>/datasets/<id>/     conversations.jsonl, signals.jsonl, pairs.jsonl, import-report.json
 *   <workspace>/models/<id>/       HF-compatible model folder
 *   <workspace>/runs/<id>/         run.json, metrics.jsonl, samples.jsonl, iter-<k>/, checkpoints/
 *   <workspace>/reports/<id>/      report.html, report.md, report.json, charts/
 *
 * Every path the engine builds from a name it did not choose goes through {@link resolveInside}.
 */
import path from 'node:path';
import { AppFailure } from '../../api/index.js';

export const CATALOG_FILE = 'workbench.json';
export const CATALOG_BACKUP_FILE = 'workbench.json.bak';
export const LOCK_FILE = 'workbench.lock';

/** The folders that hold one sub-folder per catalog entry, keyed by catalog section. */
export const ENTRY_FOLDERS = {
  datasets: 'datasets',
  models: 'models',
  runs: 'runs',
  reports: 'reports',
} as const;

export type EntrySection = keyof typeof ENTRY_FOLDERS;

/**
 * Joins `segments` onto `root` and returns the absolute result, refusing anything that could
 * leave `root`: a `..` component, an absolute segment (POSIX or Windows form) or a NUL byte.
 * The check is lexical; it does not follow symbolic links.
 * @throws AppFailure `path_outside_workspace`
 */
export function resolveInside(root: string, ...segments: string[]): string {
  for (const segment of segments) {
    if (segment.includes('\0')) refuse(root, segments, 'contains a NUL byte');
    if (path.posix.isAbsolute(segment) || path.win32.isAbsolute(segment) || /^[A-Za-z]:/.test(segment)) {
      refuse(root, segments, `"${segment}" is an absolute path`);
    }
    if (segment.split(/[\\/]/).includes('..')) refuse(root, segments, `"${segment}" climbs out with ".."`);
  }
  const base = path.resolve(root);
  const resolved = path.resolve(base, ...segments);
  const relative = path.relative(base, resolved);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    refuse(root, segments, 'resolves outside the folder');
  }
  return resolved;
}

function refuse(root: string, segments: string[], why: string): never {
  throw new AppFailure('path_outside_workspace', `The path ${JSON.stringify(segments.join('/'))} ${why}.`, {
    root,
    segments,
  });
}

/** The folder of one catalog entry, e.g. `<root>/runs/<id>`; `id` must be a single folder name. */
export function entryDir(root: string, section: EntrySection, id: string): string {
  if (id === '' || id === '.' || /[\\/]/.test(id)) {
    throw new AppFailure('path_outside_workspace', `The id ${JSON.stringify(id)} is not a single folder name.`, {
      root,
      section,
      id,
    });
  }
  return resolveInside(root, ENTRY_FOLDERS[section], id);
}

/** `<root>/workbench.json`. */
export function catalogPath(root: string): string {
  return path.join(path.resolve(root), CATALOG_FILE);
}

/** `<root>/datasets/<id>`. */
export function datasetDir(root: string, id: string): string {
  return entryDir(root, 'datasets', id);
}

/** `<root>/models/<id>`. */
export function modelDir(root: string, id: string): string {
  return entryDir(root, 'models', id);
}

/** `<root>/runs/<id>`. */
export function runDir(root: string, id: string): string {
  return entryDir(root, 'runs', id);
}

/** `<root>/reports/<id>`. */
export function reportDir(root: string, id: string): string {
  return entryDir(root, 'reports', id);
}

/** The workspace layer: folder layout, crash-safe files, the lowdb catalog and the write lock. */
export { openWorkspace, Workspace, type WorkspaceOpenOptions } from './workspace.js';
export {
  Catalog,
  CATALOG_SCHEMA_VERSION,
  CatalogSchema,
  defaultCatalog,
  migrations,
  type CatalogData,
  type CatalogMutator,
  type CatalogOpenOptions,
} from './catalog.js';
export { decodeCatalog, type CatalogDecoding } from './catalog-schema.js';
export {
  appendJsonLine,
  isProcessAlive,
  readJsonLines,
  removeStaleTemps,
  writeFileAtomic,
  type DroppedLine,
  type JsonLines,
  type WriteFileAtomicOptions,
} from './atomic.js';
export {
  CATALOG_BACKUP_FILE,
  CATALOG_FILE,
  catalogPath,
  datasetDir,
  ENTRY_FOLDERS,
  entryDir,
  LOCK_FILE,
  modelDir,
  reportDir,
  resolveInside,
  runDir,
  type EntrySection,
} from './layout.js';
export { WorkspaceLock, type LockOwner } from './lock.js';
export { defaultWorkspaceDir, PRODUCT_NAME, WORKSPACE_ENV } from './paths.js';

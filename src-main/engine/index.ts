/**
 * The engine's public surface. Hosts (shell, server, cli) import only this file.
 * The engine never imports electron (a test loads it with electron unresolvable).
 */
export type { Engine, EngineOptions, HostKind, RunJobOptions } from './host.js';
export { openEngine } from './engine.js';
export { listFormats, parseMapping, type ImportParams, type ImportResult } from './data/index.js';
export { defaultWorkspaceDir } from './workspace/paths.js';
export { listRunDetails, readRunDetail, requestRunStop } from './runs/index.js';
export {
  addReportPdf,
  chromiumPrinter,
  exportReport,
  findChromium,
  getReport,
  listReports,
  reportFiles,
  type PrintToPdf,
  type ReportBuildResult,
  type ReportFile,
} from './report/index.js';

export type { RunImportResult, TrlExportResult } from './export/params.js';
export { APP_NAME, APP_VERSION } from './version.js';

export type { DemoCheckpointResult, DemoHyperparameters, DemoOptions, DemoResult, DemoStep } from './demo/index.js';
export { prepareDemoWorkspace, runDemo } from './demo/index.js';

export type { StaticLookup, StaticSite } from './static-site.js';
export {
  CONTENT_TYPES,
  DEFAULT_CSP,
  lookupStaticFile,
  metaContentSecurityPolicy,
  openStaticSite,
} from './static-site.js';

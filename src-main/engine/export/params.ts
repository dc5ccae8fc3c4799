/**
 * The job parameters and results of `run.export` and `run.import` live in the contract
 * (src-main/api/export.ts), where the CLI and the Runs view read them too; the handlers
 * (jobs.ts) validate them where they enter the worker.
 */
export {
  AccelerateConfig,
  BaseModelChoice,
  RunExportParams,
  RunImportParams,
  TrlExportResult,
  type RunImportResult,
  type RunImportWorkerResult,
} from '../../api/index.js';

/**
 * The `report.build` job. The worker reads the run folders read-only and writes
 * `<workspace>/reports/<id>/` (it never opens the catalog); the completion step, on the host,
 * records the report in the catalog.
 */
import path from 'node:path';
import { AppFailure, ReportBuildParams, type ReportEntry } from '../../api/index.js';
import type { JobCompletion, JobHandler } from '../jobs/types.js';
import { buildReport, type ReportBuildResult } from './build.js';
import { evaluationResultFile } from './data.js';

export const buildReportJob: JobHandler = async (params, context) => {
  const parsed = ReportBuildParams.safeParse(params);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`);
    throw new AppFailure('job_invalid_params', `Invalid report.build parameters: ${issues.join('; ')}`, {
      issues: parsed.error.issues,
    });
  }
  const { runIds, formats, title, id, evaluationId, evaluationFile } = parsed.data;
  return buildReport({
    workspaceDir: context.workspaceDir,
    runIds,
    formats,
    ...(title !== undefined ? { title } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(evaluationFile !== undefined ? { evaluationFile: path.resolve(evaluationFile) } : {}),
    ...(evaluationId !== undefined ? { evaluationFile: evaluationResultFile(context.workspaceDir, evaluationId) } : {}),
    progress: (phase, done, total) => context.progress(phase, done, total),
    signal: context.signal,
  });
};

/** The catalog entry of a built report. */
export function reportEntryOf(result: ReportBuildResult): ReportEntry {
  return {
    id: result.id,
    title: result.title,
    createdAt: result.createdAt,
    formats: result.formats,
    runIds: result.runIds,
    folder: result.folder,
    files: result.files,
  };
}

/** Host side: adds (or replaces) the report's catalog entry. */
export const completeReportBuild: JobCompletion = async (_job, result, host) => {
  const built = result as ReportBuildResult;
  const entry = reportEntryOf(built);
  await host.workspace.catalog.update((draft) => {
    draft.reports = [...draft.reports.filter((report) => report.id !== entry.id), entry];
  });
  host.events.emit('catalog:changed', { section: 'reports' });
  return { ...built, entry };
};

import { describe, expect, it } from 'vitest';
import { ReportBuildParams, type ReportEntry, type RunEntry } from '../../src-main/api/schemas.js';
import {
  buildRequest,
  describeFiles,
  exportConflicts,
  exportFolderProblem,
  formatCreated,
  formProblem,
  isAbsolutePath,
  reportableRuns,
  runNames,
  sortReports,
} from '../../src-renderer/src/lib/reports.js';

function run(id: string, status: RunEntry['status'], name = id): RunEntry {
  return {
    id,
    name,
    method: 'drift',
    status,
    createdAt: '2025-01-01T00:00:00.000Z',
    baseModelId: 'base',
    datasetId: 'logs',
  };
}

function report(id: string, createdAt: string): ReportEntry {
  return { id, title: id, createdAt, formats: ['html'] };
}

const form = { runIds: ['run-a'], formats: ['html', 'md', 'json'] as const, title: '', evaluationId: '' };

describe('the report list', () => {
  it('puts the newest report first without reordering the catalog', () => {
    const catalog = [report('old', '2025-01-01T00:00:00Z'), report('new', '2025-03-01T00:00:00Z')];
    expect(sortReports(catalog).map((entry) => entry.id)).toEqual(['new', 'old']);
    expect(catalog.map((entry) => entry.id)).toEqual(['old', 'new']);
  });

  it('names a report’s runs, keeping the id of a run no longer in the catalog', () => {
    expect(runNames(['run-a', 'gone'], [run('run-a', 'succeeded', 'First run')])).toEqual(['First run', 'gone']);
    expect(runNames(undefined, [])).toEqual([]);
  });

  it('shows when a report was made with its date, and odd text as it is', () => {
    expect(formatCreated('2025-03-01T10:04:00.000Z')).toMatch(/2025/);
    expect(formatCreated('yesterday')).toBe('yesterday');
  });

  it('sums a report’s files', () => {
    expect(describeFiles([{ bytes: 100 }])).toBe('1 file, 100 B');
    expect(describeFiles([{ bytes: 30_000 }, { bytes: 12_000 }])).toBe('2 files, 41 KB');
    expect(describeFiles([{ bytes: 3 * 1024 * 1024 }])).toBe('1 file, 3.0 MB');
  });
});

describe('the build form', () => {
  it('offers only succeeded and paused runs', () => {
    const runs = (['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const).map((status) =>
      run(status, status),
    );
    expect(reportableRuns(runs).map((entry) => entry.id)).toEqual(['paused', 'succeeded']);
  });

  it('makes report.build params the engine accepts, leaving empty fields out', () => {
    const { params, pdf } = buildRequest({ ...form, formats: ['json', 'html'] });
    expect(pdf).toBe(false);
    expect(params).toEqual({ runIds: ['run-a'], formats: ['html', 'json'] });
    expect(ReportBuildParams.safeParse(params).success).toBe(true);

    const titled = buildRequest({ ...form, runIds: ['a', 'b'], title: '  Weekly  ', evaluationId: 'eval-1' }).params;
    expect(titled).toEqual({
      runIds: ['a', 'b'],
      formats: ['html', 'md', 'json'],
      title: 'Weekly',
      evaluationId: 'eval-1',
    });
    expect(ReportBuildParams.safeParse(titled).success).toBe(true);
  });

  it('builds without pdf and with html when a PDF is asked, so the host prints it afterwards', () => {
    expect(buildRequest({ ...form, formats: ['pdf'] })).toEqual({
      params: { runIds: ['run-a'], formats: ['html'] },
      pdf: true,
    });
    expect(buildRequest({ ...form, formats: ['md', 'pdf'] }).params.formats).toEqual(['html', 'md']);
  });

  it('says what is missing', () => {
    expect(formProblem(form)).toBeNull();
    expect(formProblem({ ...form, runIds: [] })).toMatch(/at least one run/);
    expect(formProblem({ ...form, formats: [] })).toMatch(/at least one format/);
    expect(formProblem({ ...form, runIds: Array.from({ length: 17 }, (_, index) => `r${index}`) })).toMatch(
      /at most 16/,
    );
  });
});

describe('the export step', () => {
  it('accepts absolute paths only', () => {
    for (const path of ['/home/me/out', 'C:\\Users\\me\\out', 'D:/out', '\\\\server\\share']) {
      expect(isAbsolutePath(path), path).toBe(true);
    }
    for (const path of ['out', './out', '~/out', 'C:out', '']) expect(isAbsolutePath(path), path).toBe(false);
    expect(exportFolderProblem('  ')).toMatch(/Choose a folder/);
    expect(exportFolderProblem('reports/weekly')).toMatch(/absolute path/);
    expect(exportFolderProblem(' /tmp/weekly ')).toBeNull();
  });

  it('reads the clashing files of export_target_not_empty, and nothing from other errors', () => {
    expect(
      exportConflicts({
        code: 'export_target_not_empty',
        message: 'full',
        details: { destDir: '/tmp/x', files: ['report.html', 'charts/a.svg'] },
      }),
    ).toEqual(['report.html', 'charts/a.svg']);
    expect(exportConflicts({ code: 'export_target_not_empty', message: 'full' })).toEqual([]);
    expect(exportConflicts({ code: 'not_found', message: 'gone', details: { files: ['x'] } })).toBeNull();
  });
});

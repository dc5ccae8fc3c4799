/**
 * Reports (issue 8): a run or a comparison of runs as self-contained HTML, PDF, Markdown with
 * SVG charts, and JSON with every number. build.ts writes a report folder; store.ts lists,
 * exports and extends built reports; job.ts is the `report.build` job.
 */
export { buildReport, REPORT_FILES, type BuildReportOptions, type ReportBuildResult } from './build.js';
export { gatherReportData, readEvaluation, type ReportData, type ReportRun, type ReportSource } from './data.js';
export { buildDocument, type ReportDocument } from './document.js';
export { renderHtml, REPORT_CSP } from './html.js';
export { renderMarkdown } from './markdown.js';
export { chromiumPrinter, findChromium, renderPdf, type PrintToPdf } from './pdf.js';
export { addReportPdf, exportReport, getReport, listReports, reportFiles, type ReportFile } from './store.js';

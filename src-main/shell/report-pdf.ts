/**
 * Report PDFs in the desktop app. Job workers cannot reach Electron, so `report:pdf` prints
 * report.html here, in a hidden window that can show nothing but that one file: its own
 * in-memory session that cancels every other request, JavaScript off, no preload, sandboxed
 * (reference/reliability.md §2). The engine writes report.pdf and updates the catalog.
 */
import type { BrowserWindow, OnBeforeRequestListenerDetails, PrintToPDFOptions, WebPreferences } from 'electron';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PrintToPdf } from '../engine/index.js';
import { installSessionPolicy } from './security.js';

/** An in-memory session (no `persist:` prefix) used by print windows only. */
export const PRINT_PARTITION = 'drift-wb-report-print';

/** The print window's preferences: a static page that runs no script and reaches nothing. */
export const PRINT_WEB_PREFERENCES: WebPreferences = {
  partition: PRINT_PARTITION,
  javascript: false,
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  webviewTag: false,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  spellcheck: false,
  navigateOnDragDrop: false,
  safeDialogs: true,
};

/**
 * A4 with the same margins and page-number footer as the CLI's Chromium printer
 * (engine/report/pdf.ts). printToPDF takes margins in inches (Electron's printToPDF docs).
 */
export const PRINT_OPTIONS: PrintToPDFOptions = {
  pageSize: 'A4',
  printBackground: true,
  margins: { marginType: 'custom', top: 14 / 25.4, bottom: 16 / 25.4, left: 12 / 25.4, right: 12 / 25.4 },
  displayHeaderFooter: true,
  headerTemplate: '<span></span>',
  footerTemplate:
    '<div style="font-size:8px;width:100%;text-align:center;color:#777"><span class="pageNumber"></span> / <span class="totalPages"></span></div>',
};

/**
 * A {@link PrintToPdf} around `webContents.printToPDF`. Each call writes the HTML to a private
 * temporary folder (a data: URL would hit Chromium's 2 MB URL limit on large reports), loads it
 * in a hidden window, prints, and destroys the window and the folder whatever happens.
 */
export function createElectronPrinter(Window: typeof BrowserWindow): PrintToPdf {
  // The files being printed now: the only URLs the print session lets through.
  const printing = new Set<string>();
  const filter = (details: OnBeforeRequestListenerDetails, callback: (response: { cancel: boolean }) => void) =>
    callback({ cancel: !printing.has(details.url) });

  return async (html) => {
    const folder = await mkdtemp(join(tmpdir(), 'drift-wb-print-'));
    const file = join(folder, 'report.html');
    const url = pathToFileURL(file).href;
    let window: BrowserWindow | null = null;
    try {
      await writeFile(file, html, { encoding: 'utf8', mode: 0o600 });
      printing.add(url);
      window = new Window({ show: false, width: 794, height: 1123, webPreferences: { ...PRINT_WEB_PREFERENCES } });
      const { session } = window.webContents;
      installSessionPolicy(session);
      session.webRequest.onBeforeRequest(filter);
      await window.loadFile(file);
      return new Uint8Array(await window.webContents.printToPDF(PRINT_OPTIONS));
    } finally {
      printing.delete(url);
      if (window && !window.isDestroyed()) window.destroy();
      await rm(folder, { recursive: true, force: true });
    }
  };
}

/**
 * report.pdf: report.html printed by a browser engine. The printer is a callback so each host
 * brings its own: the Electron shell passes one around `webContents.printToPDF`, and the CLI and
 * job workers use {@link chromiumPrinter} (playwright-core driving a headless Chromium that is
 * already installed: `CHROMIUM_PATH`, or the usual system paths; nothing is downloaded).
 */
import { access } from 'node:fs/promises';
import type { BrowserType } from 'playwright-core';
import { AppFailure } from '../../api/index.js';

const PLAYWRIGHT = 'playwright-core';

/** Prints a complete HTML document to PDF bytes. */
export type PrintToPdf = (html: string) => Promise<Uint8Array>;

/** Where a system Chromium or Chrome usually lives, after `CHROMIUM_PATH`. */
const CHROMIUM_CANDIDATES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'],
  darwin: [
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ],
  win32: [
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
  ],
};

/** The Chromium executable to print with: `CHROMIUM_PATH` when set, else the first system install found; null if none. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const candidates = env['CHROMIUM_PATH'] ? [env['CHROMIUM_PATH']] : (CHROMIUM_CANDIDATES[process.platform] ?? []);
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Margins of the printed page; the page size (A4) comes from the report's @page rule. */
export const PDF_MARGINS = { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' };

/**
 * A {@link PrintToPdf} backed by headless Chromium through playwright-core. JavaScript is off and
 * every request is aborted, so the page can only show what report.html holds.
 * @throws AppFailure `report_pdf_unavailable` when no Chromium or no playwright-core is found.
 */
export function chromiumPrinter(options: { executablePath?: string } = {}): PrintToPdf {
  return async (html) => {
    const executablePath = options.executablePath ?? (await findChromium());
    if (!executablePath) {
      throw new AppFailure(
        'report_pdf_unavailable',
        'No Chromium was found to print the PDF (looked at CHROMIUM_PATH and the usual install paths).',
      );
    }
    let chromium: BrowserType;
    try {
      // A computed specifier: bundlers leave it alone, so the desktop build (which prints with
      // Electron) does not pull playwright-core in; Node (CLI, workers) resolves it at run time.
      ({ chromium } = (await import(/* @vite-ignore */ PLAYWRIGHT)) as { chromium: BrowserType });
    } catch (error) {
      throw new AppFailure(
        'report_pdf_unavailable',
        `playwright-core, which drives Chromium, is not installed: ${(error as Error).message}`,
      );
    }
    let browser;
    try {
      browser = await chromium.launch({
        executablePath,
        // Chromium refuses to start its sandbox as root (containers, CI); the page runs no script.
        args: [
          ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
    } catch (error) {
      throw new AppFailure(
        'report_pdf_unavailable',
        `Chromium (${executablePath}) did not start: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
      const page = await context.newPage();
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      return await page.pdf({
        format: 'A4',
        printBackground: true,
        margin: PDF_MARGINS,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate:
          '<div style="font-size:8px;width:100%;text-align:center;color:#777"><span class="pageNumber"></span> / <span class="totalPages"></span></div>',
      });
    } finally {
      await browser.close();
    }
  };
}

/**
 * Prints `html` with `printToPdf` and checks that a PDF came back.
 * @throws AppFailure `report_pdf_unavailable` when the printer returned something else.
 */
export async function renderPdf(html: string, printToPdf: PrintToPdf): Promise<Uint8Array> {
  const bytes = await printToPdf(html);
  const header = new TextDecoder().decode(bytes.subarray(0, 5));
  if (header !== '%PDF-') {
    throw new AppFailure('report_pdf_unavailable', 'The PDF printer returned something that is not a PDF.');
  }
  return bytes;
}

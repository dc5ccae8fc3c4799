/**
 * Reports in a real browser engine (Debian's /usr/bin/chromium, or CHROMIUM_PATH, driven by
 * playwright-core as in test/e2e): the PDF printed by headless Chromium has pages and text that
 * pdf.js extracts; report.html opens with no request, no console error and no script run by the
 * hostile strings, and its CSP blocks a request; the Markdown's SVG charts parse as SVG.
 * Skipped (visibly, by its name) where no Chromium is installed; CI installs it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, chromiumPrinter, type ReportBuildResult } from '../../../src-main/engine/report/index.js';
import { createFixtureWorkspace, type FixtureWorkspace } from './fixtures.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RESULTS = path.join(root, 'test-results', 'report');

describe.skipIf(!available)(
  `reports in Chromium (${available ? CHROMIUM : `skipped: no Chromium at ${CHROMIUM}`})`,
  () => {
    let workspace: FixtureWorkspace;
    let result: ReportBuildResult;
    let folder: string;
    let browser: Browser;

    beforeAll(async () => {
      workspace = await createFixtureWorkspace();
      result = await buildReport({
        workspaceDir: workspace.dir,
        runIds: ['run-a'],
        formats: ['html', 'pdf', 'md', 'json'],
        evaluationFile: workspace.evaluationFile,
        printToPdf: chromiumPrinter({ executablePath: CHROMIUM }),
        id: 'chromium-report',
      });
      folder = path.join(workspace.dir, result.folder);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      if (workspace) await rm(workspace.dir, { recursive: true, force: true });
    });

    it('prints a PDF with pages and extractable text', async () => {
      const bytes = await readFile(path.join(folder, 'report.pdf'));
      const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
      const document = await pdfjs.getDocument({
        data: new Uint8Array(bytes),
        isEvalSupported: false,
        disableFontFace: true,
      }).promise;
      try {
        expect(document.numPages).toBeGreaterThanOrEqual(4);
        let text = '';
        for (let number = 1; number <= document.numPages; number++) {
          const page = await document.getPage(number);
          const content = await page.getTextContent();
          text += `${content.items.map((item) => ('str' in item ? item.str : '')).join(' ')}\n`;
        }
        const flat = text.replace(/\s+/g, ' ');
        for (const heading of ['Summary', 'Training curves', 'Evaluation', 'Examples', 'Environment', 'Limitations']) {
          expect(flat).toContain(heading);
        }
        // Numbers from the tables (win rate of iter-1 against base, its interval) and the
        // hostile text as plain characters.
        expect(flat).toContain('70.0 %');
        expect(flat).toContain('51.0 %');
        expect(flat).toMatch(/<\/svg>\s?<\/pre>/);
        // The page footer numbers the pages.
        expect(flat).toContain(`1 / ${document.numPages}`);
      } finally {
        await document.destroy();
      }
    });

    it('opens report.html with no request, no console error and no script', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning')
          problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
      page.on('request', (request) => requests.push(request.url()));
      const url = pathToFileURL(path.join(folder, 'report.html')).href;
      await page.goto(url, { waitUntil: 'load' });

      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
      // Page code as strings: this project's Node tsconfig has no DOM types (as in test/e2e).
      const state = (await page.evaluate(`({
        pwned: window.__pwned ?? null,
        scripts: document.scripts.length,
        images: document.images.length,
        charts: document.querySelectorAll('figure.chart > svg').length,
        sections: [...document.querySelectorAll('section > h2')].map((heading) => heading.textContent),
        csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? null,
        text: document.body.innerText,
      })`)) as {
        pwned: unknown;
        scripts: number;
        images: number;
        charts: number;
        sections: string[];
        csp: string | null;
        text: string;
      };
      expect(state.pwned).toBeNull();
      expect(state.scripts).toBe(0);
      expect(state.images).toBe(0);
      expect(state.charts).toBe(result.files.filter((file) => file.startsWith('charts/')).length);
      expect(state.sections).toEqual([
        'Summary',
        'Data',
        'Configuration',
        'Training curves',
        'Evaluation',
        'Examples',
        'Environment',
        'Limitations',
      ]);
      expect(state.csp).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      expect(state.text).toContain('<script>window.__pwned = 1</script>');

      await mkdir(RESULTS, { recursive: true });
      const screenshot = path.join(RESULTS, 'report-first-screen.png');
      await page.screenshot({ path: screenshot });
      const png = await readFile(screenshot);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect((await stat(screenshot)).size).toBeGreaterThan(20_000);

      // The policy is in force: an image from the network is refused by the browser.
      const failed = page.waitForEvent('requestfailed');
      const violated = await page.evaluate(`new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (event) => resolve(event.effectiveDirective));
        const image = document.createElement('img');
        image.src = 'https://example.com/tracker.png';
        document.body.append(image);
      })`);
      expect(violated).toBe('img-src');
      const blocked = await failed;
      expect(blocked.url()).toBe('https://example.com/tracker.png');
      expect(blocked.failure()?.errorText).toMatch(/csp/i);
      await context.close();
    });

    it('writes Markdown charts that parse as SVG', async () => {
      const page = await browser.newPage();
      const charts = result.files.filter((file) => file.endsWith('.svg'));
      expect(charts.length).toBeGreaterThanOrEqual(12);
      for (const chart of charts) {
        await page.goto(pathToFileURL(path.join(folder, chart)).href);
        const parsed = await page.evaluate(`({
          root: document.documentElement.localName,
          namespace: document.documentElement.namespaceURI,
          errors: document.getElementsByTagName('parsererror').length,
        })`);
        expect(parsed, chart).toEqual({ root: 'svg', namespace: 'http://www.w3.org/2000/svg', errors: 0 });
      }
      await page.close();
    });
  },
);

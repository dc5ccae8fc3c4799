/** Browser mode refuses a page opened without its start token: the app never loads. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser } from './browser.js';

describe('browser-mode token', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const [name, path] of [
    ['without a token', '/'],
    ['with a wrong token', '/?token=not-the-token'],
  ] as const) {
    it(`answers 401 and shows no app ${name}`, async () => {
      // A fresh context has no cookie from an earlier, authorised visit.
      const context = await browser.newContext();
      const page = await context.newPage();
      const response = await page.goto(`${inject('serverOrigin')}${path}`);
      expect(response?.status()).toBe(401);
      expect(await page.textContent('body')).toContain('unauthorized');
      expect(await page.locator('nav').count()).toBe(0);
      await context.close();
    });
  }
});

/**
 * Importing through the Import view (issue 3): a JSONL file typed as a path is detected, previewed
 * with its personal data flagged and its bad line rejected, imported with live progress, and its
 * report shown and listed; an unknown shape is imported through a field mapping (an invalid one
 * shows the API's error inline); a file dropped on the page is uploaded (browser mode) and
 * imported; a dataset is deleted after confirmation. Screenshots: test-results/screenshots/import-*.png.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callApi, launchBrowser, screenshot, SCREENSHOT_DIR, watchPage } from './browser.js';

interface Dataset {
  id: string;
  name: string;
  conversations: number;
  rejected?: number;
  sourceFiles: string[];
}

/** Enough rows that the import takes a few seconds, so its progress can be watched. */
const ROWS = 60_000;
const EMAIL = 'jane.doe@example.com';

/** WildChat-style logs: one e-mail address in the first conversation, and line 3 is not JSON. */
function wildchatLines(): string {
  const lines: string[] = [];
  for (let index = 0; index < ROWS; index++) {
    if (index === 2) {
      lines.push('{"conversation_hash": "broken", this is not json');
      continue;
    }
    lines.push(
      JSON.stringify({
        conversation_hash: `hash-${index}`,
        model: 'gpt-4-0314',
        language: 'English',
        toxic: false,
        conversation: [
          {
            role: 'user',
            content: `${index === 0 ? `Hi, I am Jane (${EMAIL}). ` : ''}Question ${index}: how do I sort a list in Python without changing it?`,
          },
          {
            role: 'assistant',
            content: `Use sorted(values): it returns a new list and leaves the original as it was (answer ${index}).`,
          },
        ],
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A shape no format knows: the question and a good and a bad answer. */
const UNKNOWN_SHAPE = [
  {
    ask: 'How long do I boil an egg?',
    good: 'About nine minutes for a hard-boiled egg.',
    bad: 'Eggs cannot be boiled.',
  },
  { ask: 'What is 2 + 2?', good: '2 + 2 is 4.', bad: '2 + 2 is 5.' },
  { ask: 'Name a prime number.', good: '7 is prime.', bad: '9 is prime.' },
]
  .map((row) => JSON.stringify(row))
  .join('\n');

const DROPPED = [
  {
    messages: [
      { role: 'user', content: 'Dropped hello' },
      { role: 'assistant', content: 'Hello from the upload!' },
    ],
  },
  {
    messages: [
      { role: 'user', content: 'Second' },
      { role: 'assistant', content: 'Second answer.' },
    ],
  },
]
  .map((row) => JSON.stringify(row))
  .join('\n');

async function datasets(): Promise<Dataset[]> {
  const result = (await callApi('dataset:list')) as { ok: true; value: Dataset[] };
  expect(result.ok).toBe(true);
  return result.value;
}

describe('import', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;
  let before: Set<string>;

  const main = (): Locator => page.locator('main');
  /** A count as the page shows it ("59,999" or "59 999" by locale) as a number. */
  const countOf = async (locator: Locator): Promise<number> =>
    Number(((await locator.locator('dd').textContent()) ?? '').replace(/\D/g, ''));
  const detected = (): Promise<string | null> =>
    main().getByTestId('import-detected-format').getAttribute('data-format');

  async function shoot(locator: Locator, name: string): Promise<void> {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await locator.scrollIntoViewIfNeeded();
    await locator.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
  }

  async function addPath(path: string): Promise<void> {
    const field = main().getByTestId('import-path');
    await field.fill(path);
    await field.press('Enter');
    await main().getByTestId('import-source').filter({ hasText: path }).waitFor();
  }

  /** Options → Import, and waits for the report. */
  async function importAndWait(name: string): Promise<void> {
    await main().getByTestId('import-next-options').click();
    await main().getByTestId('import-name').fill(name);
    await main().getByTestId('import-start').click();
    await main().getByTestId('import-progress').waitFor();
    await expect
      .poll(() => main().getByTestId('import-progress').getAttribute('data-status'), { timeout: 90_000 })
      .toBe('succeeded');
    await main().getByTestId('import-report').waitFor({ timeout: 30_000 });
  }

  async function startOver(): Promise<void> {
    await main().getByTestId('import-again').click();
    await main().getByTestId('import-path').waitFor();
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-import-e2e-'));
    await writeFile(join(folder, 'wildchat-logs.jsonl'), wildchatLines());
    await writeFile(join(folder, 'qa-pairs.jsonl'), `${UNKNOWN_SHAPE}\n`);
    await writeFile(join(folder, 'no-messages.jsonl'), '{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n');
    before = new Set((await datasets()).map((dataset) => dataset.id));

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    problems = watchPage(page);
    await page.goto(inject('serverUrl'));
    await page.getByTestId('workspace-path').waitFor();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Import', exact: true }).click();
    await main().getByTestId('import-path').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    // Leave the shared workspace as the other browser tests expect it: without these datasets.
    for (const dataset of await datasets()) {
      if (!before.has(dataset.id)) await callApi('dataset:delete', { id: dataset.id });
    }
    await rm(folder, { recursive: true, force: true });
  });

  it('detects a typed path, previews it, imports it with progress and shows the report', async () => {
    const file = join(folder, 'wildchat-logs.jsonl');
    await addPath(file);
    await screenshot(page, 'import-sources');
    await main().getByTestId('import-detect').click();

    // Detected format and the preview of normalised conversations.
    await expect.poll(detected).toBe('wildchat');
    expect(await main().getByTestId('import-detected').textContent()).toContain('WildChat');
    const preview = main().getByTestId('import-preview-conversation');
    await expect.poll(() => preview.count()).toBeGreaterThan(1);
    const first = preview.first();
    expect(await first.textContent()).toContain('Question 0');
    // Personal data is flagged in the preview.
    expect(await first.locator('mark.pii').textContent()).toBe(EMAIL);
    expect(await first.getByTestId('import-preview-pii').textContent()).toContain('email 1');
    // The broken line is listed with its code and place.
    const rejected = main().getByTestId('import-error');
    expect(await rejected.count()).toBe(1);
    expect(await rejected.first().getAttribute('data-code')).toBe('json_invalid');
    expect(await rejected.first().textContent()).toContain('wildchat-logs.jsonl:3');
    await screenshot(page, 'import-preview');

    await main().getByTestId('import-next-options').click();
    await main().getByTestId('import-name').fill('E2E WildChat');
    await screenshot(page, 'import-options');
    await main().getByTestId('import-start').click();

    // Progress: the bar advances through the file's bytes, with rows counted, then the report.
    const progress = main().getByTestId('import-progress');
    await progress.waitFor();
    await expect
      .poll(() => progress.getAttribute('data-status'), { timeout: 60_000, interval: 50 })
      .toMatch(/running|succeeded/);
    let sawPartial = false;
    while ((await progress.getAttribute('data-status')) === 'running') {
      const bar = progress.getByRole('progressbar');
      const value = Number(await bar.getAttribute('aria-valuenow'));
      const message = (await progress.getByTestId('import-progress-message').count())
        ? await progress.getByTestId('import-progress-message').textContent()
        : '';
      if (value > 0 && value < 100 && /\d+ rows/.test(message ?? '')) {
        if (!sawPartial) await screenshot(page, 'import-progress');
        sawPartial = true;
      }
      await page.waitForTimeout(50);
    }
    expect(sawPartial).toBe(true);
    expect(await progress.getAttribute('data-status')).toBe('succeeded');

    const report = main().getByTestId('import-report');
    await report.waitFor({ timeout: 30_000 });
    expect(await countOf(report.getByTestId('import-count-conversations'))).toBe(ROWS - 1);
    expect(await countOf(report.getByTestId('import-count-rejected'))).toBe(1);
    expect(await report.getByTestId('import-report-format').textContent()).toContain('wildchat');
    expect(await report.getByTestId('import-report-pii').textContent()).toContain('email 1');
    expect(await report.getByTestId('import-report-error-counts').textContent()).toContain('json_invalid');
    const error = report.getByTestId('import-error');
    expect(await error.count()).toBe(1);
    expect(await error.getAttribute('data-code')).toBe('json_invalid');
    expect(await error.textContent()).toContain('wildchat-logs.jsonl:3');
    expect(await report.getByTestId('import-report-languages').textContent()).toContain('en');
    await shoot(main().locator('section[aria-labelledby="import-run-title"]'), 'import-report');

    // Listed in the view and in the catalog.
    const listed = (await datasets()).find((dataset) => dataset.name === 'E2E WildChat');
    expect(listed).toMatchObject({ conversations: ROWS - 1, rejected: 1, sourceFiles: [file] });
    const row = main().locator(`[data-testid="import-dataset"][data-dataset-id="${listed!.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('email 1');
  });

  it('imports an unknown shape through a field mapping, showing an invalid mapping’s error inline', async () => {
    await startOver();
    await addPath(join(folder, 'qa-pairs.jsonl'));
    await main().getByTestId('import-detect').click();

    // No format fits: the mapping editor opens with the fields of the records.
    await expect.poll(detected).toBe('');
    const mapping = main().getByTestId('import-mapping');
    await mapping.waitFor();
    const fields = await mapping.getByTestId('import-fields').textContent();
    for (const field of ['ask', 'good', 'bad']) expect(fields).toContain(field);
    expect(await main().getByTestId('import-next-options').isDisabled()).toBe(true);

    // A malformed path: the API's mapping_invalid error shows beside the editor.
    await mapping.getByLabel('Field the importer reads, row 1').fill('prompt');
    await mapping.getByLabel('Path in your records, row 1').fill('ask..text');
    await mapping.getByTestId('import-mapping-apply').click();
    const mappingError = mapping.getByTestId('import-mapping-error');
    await mappingError.waitFor();
    expect(await mappingError.textContent()).toContain('mapping_invalid');
    expect(await mappingError.textContent()).toContain('ask..text');
    await shoot(mapping, 'import-mapping-error');

    await mapping.getByLabel('Path in your records, row 1').fill('ask');
    await mapping.getByRole('button', { name: 'Add a field' }).click();
    await mapping.getByLabel('Field the importer reads, row 2').fill('chosen');
    await mapping.getByLabel('Path in your records, row 2').fill('good');
    await mapping.getByRole('button', { name: 'Use bad' }).click(); // fills a new row's path
    await mapping.getByLabel('Field the importer reads, row 3').fill('rejected');
    expect(await mapping.getByLabel('Path in your records, row 3').inputValue()).toBe('bad');
    await mapping.getByTestId('import-mapping-apply').click();

    await expect.poll(detected).toBe('preference');
    await mappingError.waitFor({ state: 'detached' });
    const first = main().getByTestId('import-preview-conversation').first();
    expect(await first.textContent()).toContain('How long do I boil an egg?');
    expect(await first.locator('.message.chosen').textContent()).toContain('About nine minutes');
    expect(await first.locator('.message.rejected').textContent()).toContain('Eggs cannot be boiled');
    await screenshot(page, 'import-mapping');
    await shoot(first, 'import-mapping-preview');

    await importAndWait('E2E mapped pairs');
    const report = main().getByTestId('import-report');
    expect(await countOf(report.getByTestId('import-count-conversations'))).toBe(3);
    const mapped = await report.getByTestId('import-report-mapping').textContent();
    expect(mapped).toMatch(/prompt\s*←\s*ask/);
    expect(mapped).toMatch(/rejected\s*←\s*bad/);
    expect((await datasets()).find((dataset) => dataset.name === 'E2E mapped pairs')).toMatchObject({
      conversations: 3,
    });
  });

  it('uploads files dropped on the page (browser mode) and imports them', async () => {
    await startOver();
    // Browser mode has no native dialog: the button says why instead.
    const browse = main().getByTestId('import-browse');
    expect(await browse.getAttribute('aria-disabled')).toBe('true');
    expect(await browse.getAttribute('title')).toContain('desktop app');

    // A DataTransfer made in the page, as a drag from the file manager delivers it.
    const transfer = await page.evaluateHandle(
      `(() => {
        const data = new DataTransfer();
        data.items.add(new File([${JSON.stringify(DROPPED)}], 'dropped chat.jsonl', { type: 'application/json' }));
        return data;
      })()`,
    );
    const zone = main().getByTestId('import-drop-zone');
    await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
    await zone.dispatchEvent('dragover', { dataTransfer: transfer });
    await zone.dispatchEvent('drop', { dataTransfer: transfer });
    const uploaded = main().getByTestId('import-source').filter({ hasText: 'dropped_chat.jsonl' });
    await uploaded.waitFor();
    expect(await uploaded.textContent()).toContain('uploaded');
    expect(await uploaded.locator('code').getAttribute('title')).toContain(join(inject('workspaceDir'), 'uploads'));

    // The keyboard route to the same upload: the (hidden) file input behind "Upload files…".
    await main()
      .getByTestId('import-file-input')
      .setInputFiles({ name: 'picked.jsonl', mimeType: 'application/json', buffer: Buffer.from(DROPPED) });
    await main().getByTestId('import-source').filter({ hasText: 'picked.jsonl' }).waitFor();
    await screenshot(page, 'import-upload');

    await main().getByTestId('import-detect').click();
    await expect.poll(detected).toBe('openai');
    expect((await main().getByTestId('import-files').textContent())?.replace(/\s+/g, ' ')).toContain('2 files');
    await importAndWait('E2E upload');
    expect(await countOf(main().getByTestId('import-count-conversations'))).toBe(4);
    const dataset = (await datasets()).find((candidate) => candidate.name === 'E2E upload');
    expect(dataset?.conversations).toBe(4);
    for (const source of dataset!.sourceFiles)
      expect(source.startsWith(join(inject('workspaceDir'), 'uploads'))).toBe(true);
  });

  it('shows a listed dataset’s report and deletes a dataset after confirmation', async () => {
    const all = await datasets();
    const wildchat = all.find((dataset) => dataset.name === 'E2E WildChat')!;
    const upload = all.find((dataset) => dataset.name === 'E2E upload')!;
    const list = main().getByTestId('import-datasets');

    const wildchatRow = list.locator(`[data-testid="import-dataset"][data-dataset-id="${wildchat.id}"]`);
    await wildchatRow.getByTestId('import-dataset-report').click();
    const listedReport = list.locator(`[data-testid="import-report"][data-dataset-id="${wildchat.id}"]`);
    await listedReport.waitFor();
    expect(await countOf(listedReport.getByTestId('import-count-rejected'))).toBe(1);
    await wildchatRow.getByTestId('import-dataset-report').click();
    await listedReport.waitFor({ state: 'detached' });

    const row = list.locator(`[data-testid="import-dataset"][data-dataset-id="${upload.id}"]`);
    await row.getByTestId('import-dataset-delete').click();
    // The safe answer has focus; keeping changes nothing.
    const confirm = list.getByTestId('import-dataset-confirm');
    expect(await confirm.textContent()).toContain('E2E upload');
    const keep = confirm.getByRole('button', { name: 'Keep' });
    const focused = (): Promise<unknown> => page.evaluate('document.activeElement?.id');
    expect(await focused()).toBe(await keep.getAttribute('id'));
    await shoot(list, 'import-delete-confirm');
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    expect(await focused()).toBe(`import-delete-${upload.id}`);
    expect((await datasets()).some((dataset) => dataset.id === upload.id)).toBe(true);

    await row.getByTestId('import-dataset-delete').click();
    await confirm.getByTestId('import-dataset-confirm-delete').click();
    await row.waitFor({ state: 'detached' });
    expect((await datasets()).some((dataset) => dataset.id === upload.id)).toBe(false);
  });

  it('cancels an import and leaves the workspace as it was', async () => {
    const count = (await datasets()).length;
    await startOver();
    await addPath(join(folder, 'wildchat-logs.jsonl'));
    await main().getByTestId('import-detect').click();
    await expect.poll(detected).toBe('wildchat');
    await main().getByTestId('import-next-options').click();
    await main().getByTestId('import-name').fill('E2E cancelled');
    await main().getByTestId('import-start').click();
    const progress = main().getByTestId('import-progress');
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000, interval: 50 }).toBe('running');
    await main().getByTestId('import-cancel').click();
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('cancelled');
    expect(await main().getByTestId('import-unchanged').textContent()).toContain('Nothing was changed');
    await screenshot(page, 'import-cancelled');
    expect(await datasets()).toHaveLength(count);
    expect((await datasets()).some((dataset) => dataset.name === 'E2E cancelled')).toBe(false);

    // Back to the options, everything kept, to try again.
    await main().getByTestId('import-retry').click();
    expect(await main().getByTestId('import-name').inputValue()).toBe('E2E cancelled');
  });

  it('shows why an import failed, and that nothing was changed', async () => {
    await page.getByRole('navigation', { name: 'Import steps' }).getByRole('button', { name: 'Choose files' }).click();
    await main()
      .getByRole('button', { name: `Remove ${join(folder, 'wildchat-logs.jsonl')}` })
      .click();
    await addPath(join(folder, 'no-messages.jsonl'));
    await main().getByTestId('import-detect').click();
    await expect.poll(detected).toBe('');
    // Forcing a format the records do not have: every row is rejected.
    await main().getByTestId('import-format').selectOption('openai');
    await expect.poll(detected).toBe('openai');
    await expect.poll(() => main().getByTestId('import-error').count()).toBe(2);
    await main().getByTestId('import-next-options').click();
    await main().getByTestId('import-start').click();
    const progress = main().getByTestId('import-progress');
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('failed');
    const banner = main().getByRole('alert').filter({ hasText: 'Nothing was imported' });
    expect(await banner.textContent()).toContain('dataset_empty');
    expect(await main().getByTestId('import-unchanged').textContent()).toContain('Nothing was changed');
    expect(await main().getByTestId('import-error').count()).toBe(2);
    await screenshot(page, 'import-failed');
    expect((await datasets()).some((dataset) => dataset.name === 'no-messages')).toBe(false);
    await main().getByRole('button', { name: 'Start over' }).click();
    await main().getByTestId('import-path').waitFor();
  });

  it('looks right in the dark theme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await addPath(join(folder, 'wildchat-logs.jsonl'));
    await main().getByTestId('import-detect').click();
    await expect.poll(detected).toBe('wildchat');
    await screenshot(page, 'import-preview-dark');
    await main().getByTestId('import-datasets').scrollIntoViewIfNeeded();
    await screenshot(page, 'import-datasets-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

/**
 * Curating DSAT pairs (issue 4): a small WildChat-style log is imported through the API, mined from
 * the DSAT pairs view, reviewed with the keyboard (j/k move, a accept, r reject, u undo, e edit),
 * its decisions survive a reload, and the accepted pairs are frozen as pair set v1. Then the
 * Conversations view finds a conversation by a word and shows the evidence of its DSAT turn
 * highlighted. Last, a SAT/DSAT classifier is trained from the labelled dataset in the view and mines it.
 * Screenshots: test-results/screenshots/pairs-*.png and conversations-*.png.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callApi, launchBrowser, screenshot, watchPage } from './browser.js';

interface Ok<T> {
  ok: true;
  value: T;
}

/** Six conversations; five have a clear DSAT turn ("That's wrong, …") later answered to the user's thanks. */
const CONVERSATIONS: string[][] = [
  ['What is 5 + 7?', 'It is 13.', "That's wrong, the answer is 12.", 'You are right, 5 + 7 = 12.', 'thanks!'],
  [
    'Who wrote Hamlet?',
    'Charles Dickens wrote Hamlet.',
    "No, that's incorrect. It was Shakespeare.",
    'Apologies, William Shakespeare wrote Hamlet.',
    'Thanks, perfect!',
  ],
  ['Give me a synonym for happy.', 'Sad.', "That's wrong, I asked for a synonym not an antonym.", 'Joyful.', 'thanks!'],
  [
    'Translate hello to French.',
    'Hola.',
    "That's not French, that is Spanish. Try again.",
    'Bonjour.',
    'Great, thank you!',
  ],
  [
    'What is the capital of Australia?',
    'Sydney.',
    "That's wrong, the capital is Canberra.",
    'You are right, it is Canberra.',
    'thanks!',
  ],
  ['How many legs does a spider have?', 'Spiders have eight legs.', 'thanks!'],
];

function wildchatLines(): string {
  return CONVERSATIONS.map((turns, index) =>
    JSON.stringify({
      conversation_hash: `e2e-signals-${index}`,
      model: 'gpt-4-0314',
      language: 'English',
      toxic: false,
      conversation: turns.map((content, turn) => ({ role: turn % 2 === 0 ? 'user' : 'assistant', content })),
    }),
  ).join('\n');
}

/**
 * WildFeedback's per-utterance SAT/DSAT annotations: four conversations, six judged user turns, where
 * the rules detector agrees with the labels on four (it misses a polite DSAT and takes "ok" for SAT).
 */
function annotationLines(): string {
  const conversations: [string, string, number, number][][] = [
    [
      ['User', 'What is 5 + 7?', 0, 0],
      ['Agent', 'It is 13.', 0, 0],
      ['User', "That's wrong, the answer is 12.", 0, 1],
      ['Agent', 'Right, 12.', 0, 0],
      ['User', 'thanks!', 1, 0],
    ],
    [
      ['User', 'Capital of France?', 0, 0],
      ['Agent', 'Paris.', 0, 0],
      ['User', 'Great, thank you!', 1, 0],
    ],
    [
      ['User', 'Write a haiku.', 0, 0],
      ['Agent', 'Roses are red.', 0, 0],
      ['User', 'That is not a haiku at all.', 0, 1],
      ['Agent', 'An old silent pond...', 0, 0],
      ['User', 'ok', 0, 0],
    ],
    [
      ['User', 'Sum 2 and 2.', 0, 0],
      ['Agent', '4.', 0, 0],
      ['User', 'Please make it shorter next time.', 0, 1],
    ],
  ];
  return conversations
    .flatMap((turns, conversation) =>
      turns.map(([Role, Content, Satisfaction, Disatisfaction], utterance) =>
        JSON.stringify({
          conversation_id: `e2e-labelled-${conversation}`,
          UtterranceId: utterance,
          Role,
          Content,
          Satisfaction,
          Disatisfaction,
        }),
      ),
    )
    .join('\n');
}

/** Polls job:get until the job ends; expect.poll is only for use inside a test. */
async function waitForJob(id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await callApi('job:get', { id })) as Ok<{ status: string }>;
    if (!['queued', 'running'].includes(job.value.status) || Date.now() > deadline) return job.value.status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('DSAT pairs and conversations', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;
  let datasetId: string;
  let labelledId: string | undefined;

  const main = (): Locator => page.locator('main');
  const rows = (): Locator => main().getByTestId('pair-row');
  const statusOf = (index: number): Promise<string | null> =>
    main().locator(`[data-testid="pair-row"]`).nth(index).getAttribute('data-status');
  const selectedIndex = async (): Promise<number> =>
    Number(await main().getByTestId('pairs-list').locator('[aria-selected="true"]').getAttribute('data-index'));
  const detailStatus = (): Promise<string | null> => main().getByTestId('pair-detail').getAttribute('data-status');

  async function statuses(): Promise<string[]> {
    const count = await rows().count();
    const values: string[] = [];
    for (let index = 0; index < count; index++) values.push((await statusOf(index)) ?? '');
    return values;
  }

  async function openView(name: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
  }

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-wb-pairs-e2e-'));
    const file = join(folder, 'wildchat-signals.jsonl');
    await writeFile(file, `${wildchatLines()}\n`);
    const started = (await callApi('job:start', {
      kind: 'dataset.import',
      params: { paths: [file], name: 'E2E signals' },
    })) as Ok<{ id: string }>;
    expect(started.ok).toBe(true);
    expect(await waitForJob(started.value.id)).toBe('succeeded');
    const job = (await callApi('job:get', { id: started.value.id })) as Ok<{ result: { datasetId: string } }>;
    datasetId = job.value.result.datasetId;

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: 'light' });
    page = await context.newPage();
    problems = watchPage(page);
    await page.goto(inject('serverUrl'));
    await page.getByTestId('workspace-path').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    // Leave the shared workspace as the other browser tests expect it: without this dataset.
    if (datasetId) await callApi('dataset:delete', { id: datasetId });
    if (labelledId) await callApi('dataset:delete', { id: labelledId });
    await rm(folder, { recursive: true, force: true });
  });

  it('mines the dataset from the DSAT pairs view', async () => {
    await openView('DSAT pairs');
    await main().getByTestId('signals-dataset').selectOption(datasetId);
    const mine = main().getByTestId('pairs-mine');
    await mine.waitFor();
    await screenshot(page, 'pairs-not-mined');
    await mine.click();
    await expect.poll(() => rows().count(), { timeout: 60_000 }).toBe(5);
    // Starting a job opens the jobs panel; Escape closes it.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#jobs-panel').count()).toBe(0);
    expect(await main().getByTestId('pairs-total').textContent()).toContain('5 of 5 pairs');
    expect(await main().getByTestId('signals-report').textContent()).toContain('5 DSAT turns');
    await main().getByTestId('pair-detail').waitFor();
    expect(await statuses()).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
  });

  it('reviews pairs with the keyboard, and the decisions survive a reload', async () => {
    // Focus on the page, not in a text field, so the keys are shortcuts.
    await main().getByTestId('pairs-total').click();
    expect(await selectedIndex()).toBe(0);
    const detail = main().getByTestId('pair-detail');
    // The four columns of the selected pair, its feedback's evidence highlighted.
    expect(await detail.getByRole('region', { name: 'Rejected' }).textContent()).toContain('It is 13.');
    expect(await detail.getByRole('region', { name: 'Feedback' }).locator('mark').count()).toBeGreaterThan(0);
    expect(await detail.getByRole('region', { name: 'Chosen' }).textContent()).toContain('5 + 7 = 12');

    await page.keyboard.press('a'); // accept #0, moves to #1
    await expect.poll(() => statusOf(0)).toBe('accepted');
    await expect.poll(selectedIndex).toBe(1);
    await page.keyboard.press('r'); // reject #1, moves to #2
    await expect.poll(() => statusOf(1)).toBe('rejected');
    await expect.poll(selectedIndex).toBe(2);
    await page.keyboard.press('k');
    await expect.poll(selectedIndex).toBe(1);
    await expect.poll(detailStatus).toBe('rejected');
    await page.keyboard.press('u'); // undoes the rejection of #1
    await expect.poll(() => statusOf(1)).toBe('pending');
    await page.keyboard.press('j');
    await expect.poll(selectedIndex).toBe(2);
    await page.keyboard.press('a'); // accept #2, moves to #3
    await expect.poll(() => statusOf(2)).toBe('accepted');
    await expect.poll(selectedIndex).toBe(3);
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    await expect.poll(selectedIndex).toBe(1);
    await page.keyboard.press('r'); // reject #1 again
    await expect.poll(() => statusOf(1)).toBe('rejected');
    expect(await statuses()).toEqual(['accepted', 'rejected', 'accepted', 'pending', 'pending']);

    // e edits the selected pair inline (#2, after the rejection of #1 moved there).
    await expect.poll(selectedIndex).toBe(2);
    await page.keyboard.press('e');
    const editor = main().getByTestId('pair-editor');
    await editor.waitFor();
    await editor.getByTestId('pair-edit-chosen').fill('Joyful, cheerful or glad.');
    await screenshot(page, 'pairs-edit');
    await editor.getByTestId('pair-edit-save').click();
    await expect.poll(() => detail.getByRole('region', { name: 'Chosen' }).textContent()).toContain('cheerful');

    // Tags and a note persist with the decision.
    await detail.getByTestId('pair-tags').fill('synonyms, checked');
    await detail.getByTestId('pair-tags').press('Tab');
    await expect.poll(() => main().locator('[data-testid="pair-row"]').nth(2).textContent()).toContain('#checked');
    await main().getByTestId('pairs-facet-tags').locator('input[data-value="synonyms"]').waitFor();
    await detail.getByTestId('pair-note').fill('Chosen rewritten with more synonyms.');
    await detail.getByTestId('pair-note').press('Tab');
    await expect
      .poll(
        async () =>
          (
            (await callApi('pair:get', { datasetId, id: await detail.getAttribute('data-id') })) as Ok<{
              decision: { note: string };
            }>
          ).value.decision.note,
      )
      .toBe('Chosen rewritten with more synonyms.');

    // / focuses the search box; typed letters there are text, not shortcuts.
    await main().getByTestId('pairs-total').click();
    await page.keyboard.press('/');
    await expect.poll(() => page.locator(':focus').getAttribute('data-testid')).toBe('pairs-search');
    await page.keyboard.type('ar');
    await expect.poll(() => main().getByTestId('pairs-search').inputValue()).toBe('ar');
    await main().getByTestId('pairs-search').fill('');
    await expect.poll(() => rows().count()).toBe(5);
    expect(await statuses()).toEqual(['accepted', 'rejected', 'accepted', 'pending', 'pending']);
    await screenshot(page, 'pairs-review');

    // A reload aborts requests in flight (the facet refresh after a decision), which the page watch would report.
    await page.waitForLoadState('networkidle');
    await page.reload();
    await main().getByTestId('pairs-list').waitFor();
    await expect.poll(() => rows().count()).toBe(5);
    expect(await statuses()).toEqual(['accepted', 'rejected', 'accepted', 'pending', 'pending']);
    const listed = (await callApi('pair:list', { datasetId, filter: { statuses: ['accepted'] } })) as Ok<{
      total: number;
      items: { decision: { edit?: { chosen?: string } } }[];
    }>;
    expect(listed.value.total).toBe(2);
    expect(listed.value.items[1]?.decision.edit?.chosen).toBe('Joyful, cheerful or glad.');
  });

  it('freezes the accepted pairs as a versioned pair set', async () => {
    await main().getByTestId('pairs-facet-statuses').locator('input[data-value="accepted"]').check();
    await expect.poll(() => main().getByTestId('pairs-total').textContent()).toContain('2 of 5 pairs');
    await main().getByTestId('pairs-freeze').click();
    const dialog = page.getByTestId('pairs-freeze-dialog');
    await dialog.getByTestId('pairs-freeze-name').fill('e2e-reviewed');
    expect(await dialog.getByTestId('pairs-freeze-count').textContent()).toBe('2');
    expect(await dialog.textContent()).toContain('statuses: accepted');
    await screenshot(page, 'pairs-freeze');
    await dialog.getByTestId('pairs-freeze-confirm').click();
    await expect.poll(() => dialog.getByTestId('pairs-frozen-version').textContent()).toBe('v1');
    expect(await dialog.getByTestId('pairs-frozen').getAttribute('data-id')).toBe('e2e-reviewed@v1');
    await screenshot(page, 'pairs-frozen');
    await dialog.getByRole('button', { name: 'Close' }).click();
    const sets = main().getByTestId('pair-sets');
    await sets.locator('[data-id="e2e-reviewed@v1"]').waitFor();
    // Export it as TRL files to the default folder under the workspace.
    await sets.getByTestId('pair-export-format').selectOption('trl');
    await sets.locator('[data-id="e2e-reviewed@v1"]').getByTestId('pair-set-export').click();
    await expect
      .poll(() => sets.getByTestId('pair-export-result').textContent())
      .toContain('preference.jsonl (2 rows)');
    await sets.scrollIntoViewIfNeeded();
    await screenshot(page, 'pairs-sets');
  });

  it('rejects the filtered pairs in bulk after confirming their count, and undoes it', async () => {
    const statusFacet = main().getByTestId('pairs-facet-statuses');
    await statusFacet.locator('input[data-value="accepted"]').uncheck();
    await statusFacet.locator('input[data-value="pending"]').check();
    await expect.poll(() => main().getByTestId('pairs-total').textContent()).toContain('2 of 5 pairs');
    await main().getByTestId('pairs-bulk-reject').click();
    const dialog = page.getByTestId('pairs-bulk-dialog');
    expect(await dialog.getByTestId('pairs-bulk-count').textContent()).toBe('2');
    expect(await dialog.textContent()).toContain('statuses: pending');
    await screenshot(page, 'pairs-bulk');
    await dialog.getByTestId('pairs-bulk-confirm').click();
    await expect.poll(() => main().getByTestId('pairs-total').textContent()).toContain('0 of 5 pairs');
    await main().getByTestId('pairs-total').click();
    await page.keyboard.press('u');
    await expect.poll(() => main().getByTestId('pairs-total').textContent()).toContain('2 of 5 pairs');
    await statusFacet.locator('input[data-value="pending"]').uncheck();
    await expect.poll(() => rows().count()).toBe(5);
    expect(await statuses()).toEqual(['accepted', 'rejected', 'accepted', 'pending', 'pending']);
  });

  it('finds a conversation by a word and highlights the evidence of its DSAT turn', async () => {
    await openView('Conversations');
    await main().getByTestId('signals-dataset').selectOption(datasetId);
    await expect.poll(() => main().getByTestId('conversation-row').count()).toBe(6);
    await screenshot(page, 'conversations-list');
    await main().getByTestId('conversations-search').fill('Canberra');
    await expect.poll(() => main().getByTestId('conversation-row').count()).toBe(1);
    expect(await main().getByTestId('conversations-total').textContent()).toContain('1 of 6 conversations');
    await main().getByTestId('conversation-row').first().click();
    const reader = main().getByTestId('conversation-reader');
    await reader.waitFor();
    const dsat = reader.locator('[data-testid="signal-badge"][data-polarity="dsat"]');
    expect(await dsat.count()).toBe(1);
    const evidence = reader.getByTestId('evidence').first();
    expect((await evidence.textContent())?.toLowerCase()).toContain('wrong');
    expect(await evidence.getAttribute('title')).toBeTruthy();
    await screenshot(page, 'conversations-reader');
  });

  it('shows the agreement with imported labels and its confusion matrix', async () => {
    const file = join(folder, 'wildfeedback-annotations.jsonl');
    await writeFile(file, `${annotationLines()}\n`);
    const imported = (await callApi('job:start', {
      kind: 'dataset.import',
      params: { paths: [file], name: 'E2E labelled' },
    })) as Ok<{ id: string }>;
    expect(await waitForJob(imported.value.id)).toBe('succeeded');
    const job = (await callApi('job:get', { id: imported.value.id })) as Ok<{ result: { datasetId: string } }>;
    labelledId = job.value.result.datasetId;
    const mined = (await callApi('job:start', {
      kind: 'signals.mine',
      params: { datasetId: labelledId, detectors: ['labels', 'rules'] },
    })) as Ok<{ id: string }>;
    expect(await waitForJob(mined.value.id)).toBe('succeeded');

    await expect
      .poll(() => main().getByTestId('signals-dataset').locator(`option[value="${labelledId}"]`).count())
      .toBe(1);
    await main().getByTestId('signals-dataset').selectOption(labelledId);
    const report = main().getByTestId('signals-report');
    await expect.poll(() => report.textContent()).toContain('4 conversations');
    await report.locator('summary').click();
    const agreement = report.getByTestId('signals-agreement');
    await agreement.waitFor();
    expect(await agreement.textContent()).toContain("rules: accuracy 0.67, Cohen's κ 0.48");
    expect(await agreement.locator('canvas').count()).toBe(1);
    await agreement.scrollIntoViewIfNeeded();
    await screenshot(page, 'conversations-agreement');
    expect(problems).toEqual([]);
  });

  it('trains a classifier from the imported labels and mines the labelled dataset with it', async () => {
    await openView('DSAT pairs');
    await expect.poll(() => main().getByTestId('signals-dataset').inputValue()).toBe(labelledId);
    // No classifier yet: the detector and its dropdown are disabled and say why.
    const detector = main().getByTestId('signals-detector-classifier');
    const dropdown = main().getByTestId('signals-classifier');
    expect(await detector.isDisabled()).toBe(true);
    expect(await dropdown.getAttribute('title')).toContain('Train classifier');

    await main().getByTestId('classifier-train-open').click();
    const form = main().getByTestId('classifier-train');
    expect(await form.getByRole('radio', { name: 'Imported labels' }).isChecked()).toBe(true);
    await form.getByTestId('classifier-train-name').fill('e2e-classifier');
    await form.getByTestId('classifier-train-start').click();
    const trained = main().getByTestId('classifier-trained');
    await trained.waitFor({ timeout: 120_000 });
    expect(await trained.getAttribute('data-id')).toBe('e2e-classifier');
    expect(await trained.textContent()).toMatch(/labelled turns/);
    // Starting a job opens the jobs panel; Escape closes it.
    await page.locator('#jobs-panel').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#jobs-panel').count()).toBe(0);
    await expect.poll(() => dropdown.locator('option[value="e2e-classifier"]').count()).toBe(1);
    expect(await detector.isDisabled()).toBe(false);
    await screenshot(page, 'pairs-classifier-trained');

    // Mine with the classifier alone, so every pair's signal comes from it.
    await main().getByRole('group', { name: 'Detectors' }).getByLabel('Imported labels').uncheck();
    await main().getByRole('group', { name: 'Detectors' }).getByLabel('Rules').uncheck();
    await detector.check();
    await dropdown.selectOption('e2e-classifier');
    await main().getByTestId('signals-mine').click();
    await page.locator('#jobs-panel').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#jobs-panel').count()).toBe(0);
    await expect
      .poll(() => main().getByTestId('signals-mined').textContent(), { timeout: 120_000 })
      .toMatch(/with classifier$/);
    const report = (await callApi('signals:report', { datasetId: labelledId })) as Ok<{
      detectors: string[];
      classifierId: string | null;
      byDetector: Record<string, { judged: number }>;
    }>;
    expect(report.value.detectors).toEqual(['classifier']);
    expect(report.value.classifierId).toBe('e2e-classifier');
    expect(report.value.byDetector['classifier']?.judged).toBeGreaterThan(0);
    await main().getByTestId('pairs-facet-detectors').locator('input[data-value="classifier"]').waitFor();
    expect(await main().getByTestId('pairs-facet-detectors').locator('input[data-value="rules"]').count()).toBe(0);
    await screenshot(page, 'pairs-classifier-mined');
    expect(problems).toEqual([]);
  });
});

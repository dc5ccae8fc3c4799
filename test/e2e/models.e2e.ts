/**
 * The Models view (issue 5) in browser mode: a local HF folder typed as a path is inspected and
 * imported, and listed with its architecture and parameter count; a folder that is not a model
 * shows the engine's error with its hint; the playground says clearly that a model without a
 * tokenizer cannot encode text; a tiny model with its own tokenizer is trained from the Train tab;
 * the playground streams its generations (job:output frames reach the page), the same seed gives
 * the same text, another seed another text, chat mode uses the template, and Stop cancels a generation; a model is deleted
 * after confirmation. Screenshots: test-results/screenshots/models-*.png.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, screenshot, watchPage } from './browser.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE_MODEL = join(root, 'test', 'fixtures', 'models', 'ferrl-tiny-llama');
const FIXTURE_PARAMETERS = '16,544';

/** Short chats for the tiny preset to learn a tokenizer and a few steps from. */
function trainingLines(): string {
  const lines: string[] = [];
  for (let index = 0; index < 32; index++) {
    lines.push(
      JSON.stringify({
        messages: [
          { role: 'user', content: `What is ${index} plus one?` },
          { role: 'assistant', content: `${index} plus one is ${index + 1}.` },
        ],
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('models view', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let dataDir: string;
  /** `job:output` frames the page's event socket received. */
  let outputFrames = 0;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'drift-wb-e2e-models-'));
    await writeFile(join(dataDir, 'sft.jsonl'), trainingLines());
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = watchPage(page);
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string' && payload.includes('"event":"job:output"')) outputFrames++;
      }),
    );
    await page.goto(inject('serverUrl'));
    await page.getByTestId('workspace-path').waitFor();
    await page.keyboard.press('Control+5');
    await page.locator('main[data-view="models"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const main = (): Locator => page.locator('main');
  const tab = (name: string): Locator => main().getByRole('tab', { name });

  it('shows the engine’s error and hint for a folder that is not a model', async () => {
    await expect.poll(() => main().getByTestId('models-empty').isVisible()).toBe(true);
    await main().getByTestId('model-path').fill(dataDir);
    await main().getByRole('button', { name: 'Inspect' }).click();
    const banner = main().getByRole('alert');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('model_folder_invalid');
    expect(await banner.textContent()).toContain('safetensors');
    await screenshot(page, 'models-error');
    await banner.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('inspects and imports the fixture folder, and lists it with its architecture and parameters', async () => {
    await main().getByTestId('model-path').fill(FIXTURE_MODEL);
    await main().getByRole('button', { name: 'Inspect' }).click();
    const inspection = main().getByTestId('model-inspection');
    await inspection.waitFor();
    const facts = (await inspection.textContent()) ?? '';
    expect(facts).toContain('LlamaForCausalLM');
    expect(facts).toContain(FIXTURE_PARAMETERS);
    expect(facts).toContain('float32');
    expect(facts).toMatch(/none — the playground needs one/);
    await screenshot(page, 'models-inspect');

    await main().getByRole('button', { name: 'Import', exact: true }).click();
    const row = main().locator('[data-testid="model-row"][data-model-id="ferrl-tiny-llama"]');
    await row.waitFor({ timeout: 60_000 });
    expect(await row.getByTestId('model-architecture').textContent()).toMatch(/LlamaForCausalLM\s*\(llama\)/);
    expect(await row.getByTestId('model-parameters').textContent()).toContain(FIXTURE_PARAMETERS);
    expect(await row.getByTestId('model-tokenizer').textContent()).toContain('none');
    // The finished import selects the new model: its details show the HF config.
    const detail = main().getByTestId('model-detail');
    await detail.waitFor();
    await detail.locator('summary', { hasText: /^config\.json$/ }).click();
    expect(await detail.getByTestId('model-config').textContent()).toContain('"model_type": "llama"');
    expect(await main().getByTestId('model-path').inputValue()).toBe('');
    await screenshot(page, 'models-list');
  });

  it('says in the playground that a model without a tokenizer cannot generate', async () => {
    await tab('Playground').click();
    const notice = main().getByTestId('playground-no-tokenizer');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('has no tokenizer');
    expect(await main().getByTestId('playground-generate').isDisabled()).toBe(true);
    await screenshot(page, 'models-no-tokenizer');
  });

  it('trains a tiny model with its own tokenizer from the Train tab', async () => {
    await tab('Train (SFT)').click();
    await main().getByTestId('train-file').fill(join(dataDir, 'sft.jsonl'));
    await main().getByTestId('train-name').fill('tiny chat');
    await main().getByTestId('train-steps').fill('12');
    await main().getByTestId('train-start').click();
    const done = main().getByTestId('train-done');
    await done.waitFor({ timeout: 110_000 });
    expect(await done.textContent()).toContain('tiny chat');
    await screenshot(page, 'models-train');
    await done.getByRole('button', { name: 'Try it in the playground' }).click();
    await expect.poll(() => main().getByTestId('playground-model').inputValue()).toBe('tiny-chat');
  });

  async function generate(seed: number, maxNewTokens = 24): Promise<string> {
    await main().getByTestId('sampling-seed').fill(String(seed));
    await main().getByTestId('sampling-max').fill(String(maxNewTokens));
    await main().getByTestId('playground-generate').click();
    const status = main().getByTestId('playground-status');
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/tokens\/s/);
    return (await main().getByTestId('playground-completion').textContent()) ?? '';
  }

  it('streams a seeded generation, and the same seed gives the same text', async () => {
    await main().getByTestId('playground-prompt').fill('What is 3 plus one?');
    const framesBefore = outputFrames;
    const first = await generate(7);
    expect(first.length).toBeGreaterThan(0);
    // Every generated token reached the page as its own job:output event.
    expect(outputFrames - framesBefore).toBeGreaterThanOrEqual(2);
    expect(await main().getByTestId('playground-status').textContent()).toMatch(/^\s*\d+ tokens in/);
    await screenshot(page, 'models-playground');

    expect(await generate(7)).toBe(first);
    expect(await generate(8)).not.toBe(first);
  });

  it('generates in chat mode with the model’s chat template', async () => {
    await main().getByRole('radio', { name: /Chat/ }).check();
    expect(await main().getByTestId('playground-prompt').getAttribute('placeholder')).toContain('Ask the model');
    const reply = await generate(7, 16);
    expect(reply.length).toBeGreaterThan(0);
    // The chat prompt is rendered by the template, so the output does not echo the message.
    expect(await main().getByTestId('playground-output').textContent()).not.toContain('What is 3 plus one?');
    await main().getByRole('radio', { name: 'Text' }).check();
  });

  it('stops a running generation', async () => {
    await main().getByTestId('sampling-seed').fill('1');
    // The context (256 tokens) caps it; a high temperature makes an early end-of-sequence unlikely.
    await main().getByTestId('sampling-max').fill('4000');
    await main().getByTestId('sampling-temperature').fill('5');
    await main().getByTestId('playground-generate').click();
    const stop = main().getByTestId('playground-stop');
    const status = main().getByTestId('playground-status');
    // Stop once tokens are streaming in.
    await expect.poll(() => status.textContent(), { timeout: 30_000, interval: 20 }).toMatch(/Generating… [1-9]/);
    await stop.click();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Stopped after \d+ tokens/);
    // A cancelled job has no result: what shows is what was streamed before Stop.
    expect(Number((await status.textContent())?.match(/Stopped after (\d+)/)?.[1])).toBeGreaterThan(0);
    expect(((await main().getByTestId('playground-completion').textContent()) ?? '').length).toBeGreaterThan(0);
    expect(await main().getByTestId('playground-generate').isEnabled()).toBe(true);
  });

  it('deletes a model after confirmation', async () => {
    await tab('Library').click();
    const row = main().locator('[data-testid="model-row"][data-model-id="ferrl-tiny-llama"]');
    await row.getByRole('button').click();
    const detail = main().getByTestId('model-detail');
    await detail.getByRole('button', { name: 'Delete…' }).click();
    await screenshot(page, 'models-delete');
    await detail.getByRole('button', { name: 'Delete', exact: true }).click();
    await row.waitFor({ state: 'detached' });
    expect(await main().locator('[data-testid="model-row"]').count()).toBe(1);
  });

  it('had no console errors and no failed requests', () => {
    expect(problems).toEqual([]);
  });
});

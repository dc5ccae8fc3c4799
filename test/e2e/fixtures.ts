/**
 * Shared set-up of the browser tests that need a workspace with content: chat logs written as
 * files, jobs run and pair sets frozen through a server's API (as the CLI would), and the app
 * opened on one view in a fresh page.
 */
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { callApi, watchPage } from './browser.js';
import type { BrowserMode } from './server.js';

export interface Ok<T> {
  ok: true;
  value: T;
}

type Server = Pick<BrowserMode, 'origin' | 'token'>;

/** The API of `server`, called from the test process; answers are trusted to be `ok`. */
export function serverApi(server: Server): <T>(channel: string, request?: unknown) => Promise<Ok<T>> {
  return <T>(channel: string, request: unknown = {}) => callApi(channel, request, server) as Promise<Ok<T>>;
}

/** Starts a job and waits (60 s at most) for it to succeed; answers its result. */
export async function runJob<R>(server: Server, kind: string, params: Record<string, unknown>): Promise<R> {
  const api = serverApi(server);
  const started = await api<{ id: string }>('job:start', { kind, params });
  expect(started.ok, JSON.stringify(started)).toBe(true);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await api<{ status: string; result: R; error?: unknown }>('job:get', { id: started.value.id });
    if (!['queued', 'running'].includes(job.value.status)) {
      expect(job.value.status, JSON.stringify(job.value.error)).toBe('succeeded');
      return job.value.result;
    }
    if (Date.now() > deadline) throw new Error(`${kind} did not finish within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Chats with a wrong answer, the user's correction, a right answer and thanks: one DSAT pair each. */
export function arithmeticChats(count: number): string[][] {
  return Array.from({ length: count }, (_, index) => {
    const [left, right] = [index + 2, index + 5];
    return [
      `What is ${left} + ${right}?`,
      `It is ${left + right + 1}.`,
      `That's wrong, the answer is ${left + right}.`,
      `You are right, ${left} + ${right} = ${left + right}.`,
      'thanks!',
    ];
  });
}

function messages(chat: string[]): { role: string; content: string }[] {
  return chat.map((content, turn) => ({ role: turn % 2 === 0 ? 'user' : 'assistant', content }));
}

function jsonLines(rows: unknown[]): string {
  return `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
}

/** The chats as a WildChat log; `hashPrefix` keeps each test's conversation hashes apart. */
export function wildchatLog(chats: string[][], hashPrefix: string): string {
  return jsonLines(
    chats.map((chat, index) => ({
      conversation_hash: `${hashPrefix}-${index}`,
      model: 'gpt-4-0314',
      language: 'English',
      toxic: false,
      conversation: messages(chat),
    })),
  );
}

/** The chats as SFT data (`messages` rows), for a tiny policy and its tokenizer. */
export function sftLog(chats: string[][]): string {
  return jsonLines(chats.map((chat) => ({ messages: messages(chat) })));
}

/**
 * Imports a WildChat log file, mines it, accepts every pair and freezes them as `<pairSet>@v1`;
 * answers the dataset's id and how many pairs were accepted.
 */
export async function freezePairSet(
  server: Server,
  options: { file: string; dataset: string; pairSet: string },
): Promise<{ datasetId: string; accepted: number }> {
  const api = serverApi(server);
  const { datasetId } = await runJob<{ datasetId: string }>(server, 'dataset.import', {
    paths: [options.file],
    name: options.dataset,
  });
  await runJob(server, 'signals.mine', { datasetId });
  const accepted = await api<{ updated: number }>('pair:decide', { datasetId, filter: {}, status: 'accepted' });
  const frozen = await api<{ id: string }>('pairset:freeze', {
    datasetId,
    name: options.pairSet,
    filter: { statuses: ['accepted'] },
  });
  expect(frozen.value.id).toBe(`${options.pairSet}@v1`);
  return { datasetId, accepted: accepted.value.updated };
}

/**
 * Opens the app in a new page (light scheme), waits for the workspace, and goes to a view with its
 * shortcut (Control+`shortcut`); answers the page and the problems it reports (watchPage).
 */
export async function openView(
  browser: Browser,
  server: BrowserMode,
  options: {
    shortcut: number;
    view: string;
    viewport?: { width: number; height: number };
    permissions?: string[];
  },
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 1000 },
    colorScheme: 'light',
  });
  if (options.permissions) await context.grantPermissions(options.permissions, { origin: server.origin });
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(server.url);
  await page.getByTestId('workspace-path').waitFor();
  await page.keyboard.press(`Control+${options.shortcut}`);
  await page.locator(`main[data-view="${options.view}"]`).waitFor();
  return { page, problems };
}

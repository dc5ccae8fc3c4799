/**
 * Shared pieces of the reliability tests: fixed fast-check seeds (so CI is deterministic; a
 * failure report prints the seed and the shrunk counterexample), temp folders, hostile values,
 * and a timeout that turns a hang into a failure.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ERROR_CODES, isErrorCode } from '../../src-main/api/index.js';

/** The seed every property starts from: RELIABILITY_SEED, or a fixed default. */
export const SEED = Number(process.env['RELIABILITY_SEED'] ?? 20251011);

/**
 * Options for `fc.assert`: the fixed seed and `runs` runs (RELIABILITY_RUNS scales every property,
 * e.g. RELIABILITY_RUNS=10 for a ten times longer local fuzzing session).
 */
export function propertyOptions(runs: number): fc.Parameters<unknown> {
  const scale = Number(process.env['RELIABILITY_RUNS'] ?? 1);
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * scale)), endOnFailure: false };
}

/**
 * Paths that try to climb out of a served folder (`root`, the folder itself, is one piece too):
 * dot segments, percent-encoded and overlong-UTF-8 dots, NUL, backslashes, names that exist inside
 * and outside, joined by `/`, `\\` or their encodings. No leading separator.
 */
export function traversalPath(root: string, extraPieces: readonly string[] = []): fc.Arbitrary<string> {
  const piece = fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2e',
    '.%2e',
    '%2e.',
    '%252e%252e',
    '..%2f',
    '..%5c',
    '..\\',
    '%c0%ae%c0%ae',
    '%e0%80%ae',
    '%00',
    '',
    'assets',
    'link.txt',
    'secret.txt',
    '.env',
    'index.html',
    'etc',
    'passwd',
    '%2f',
    '%5c',
    encodeURIComponent(root),
    ...extraPieces,
  );
  return fc
    .tuple(fc.array(piece, { minLength: 1, maxLength: 7 }), fc.constantFrom('/', '\\', '%2f', '%5c'))
    .map(([pieces, separator]) => pieces.join(separator));
}

/** How many SIGKILLs each kill test performs: RELIABILITY_KILLS, default 8 (the figure is 30). */
export const KILLS = Number(process.env['RELIABILITY_KILLS'] ?? 8);

const created: string[] = [];

export async function makeTempDir(prefix = 'drift-reliability-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Rejects when `promise` has not settled after `ms` milliseconds: a hang is a failure. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Checks that `value` is a Result as the contract defines it, with a known error code. */
export function assertResult(value: unknown, where: string): asserts value is { ok: boolean } {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: not a Result: ${String(value)}`);
  const result = value as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (result.ok === true) return;
  if (result.ok !== false) throw new Error(`${where}: a Result needs ok: true or false`);
  if (!isErrorCode(result.error?.code)) {
    throw new Error(`${where}: unknown error code ${JSON.stringify(result.error?.code)}`);
  }
  if (typeof result.error?.message !== 'string') throw new Error(`${where}: the error has no message`);
  // Errors cross IPC and HTTP as JSON.
  JSON.stringify(value);
}

export const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));

/** Whether `Object.prototype` picked up a key from parsed data (prototype pollution). */
export function prototypePolluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe['polluted'] !== undefined || Object.keys(Object.prototype).length > 0;
}

/** A nesting of `depth` arrays: deep enough to trip recursive code. */
export function deeplyNested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

/** Values chosen to hit edge cases: traversal strings, huge and odd numbers, prototype keys, deep nesting. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      '',
      ' ',
      '../../../../etc/passwd',
      '..\\..\\windows\\win.ini',
      '%2e%2e%2f',
      '\u0000',
      '\uFEFF{}',
      'a'.repeat(5000),
      '__proto__',
      'constructor',
      -1,
      0,
      1.5,
      2 ** 53 + 1,
      1e308,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      null,
      true,
      [],
      {},
      JSON.parse('{"__proto__": {"polluted": 1}}'),
      { constructor: { prototype: { polluted: 1 } } },
      deeplyNested(2000),
      Array.from({ length: 2000 }, (_, index) => index),
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
);

/** What a child process printed before it was killed. */
export interface KilledChild {
  /** Lines it printed, in order. */
  lines: string[];
  stderr: string;
}

/**
 * Runs `node --import tsx <script> ...args` in the project root, waits for its "ready" line,
 * SIGKILLs it `delayMs` later, and resolves with what it printed. Fails if the child exits by
 * itself (it is meant to loop until killed) or is not ready within 30 s.
 */
export function runAndKill(script: string, args: readonly string[], delayMs: number): Promise<KilledChild> {
  const projectRoot = path.resolve(import.meta.dirname, '..', '..');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const startup = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes('ready\n')) {
        clearTimeout(startup);
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(startup);
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || timer === undefined) {
        reject(new Error(`${path.basename(script)} ended by itself (signal ${String(signal)}): ${stderr}`));
        return;
      }
      resolve({ lines: stdout.split('\n').filter(Boolean), stderr });
    });
  });
}

/** A deterministic delay sequence (mulberry32 from SEED), so kill times are reproducible. */
export function killDelays(count: number, minMs: number, maxMs: number, salt = 0): number[] {
  let state = (SEED + salt) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => Math.round(minMs + next() * (maxMs - minMs)));
}

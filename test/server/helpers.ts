/**
 * Shared pieces of the browser-mode tests: a fake engine (handlers + event source), a tiny static
 * site in a temporary folder, and a raw HTTP client that sends exactly the headers and path given.
 */
import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { EngineHandlers, EventName, EventPayload, Job } from '../../src-main/api/index.js';
import {
  DEFAULT_SETTINGS,
  EvaluationSettings,
  RunConfig,
  type EvaluationMeta,
  type EvaluationResult,
  type RunDetail,
} from '../../src-main/api/index.js';
import { startServer, type RunningServer, type ServedEngine, type ServerOptions } from '../../src-main/server/index.js';

export const PAGE_CSP = "default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'";
export const SECRET = 'SECRET-OUTSIDE-THE-STATIC-FOLDER';

export const SAMPLE_JOB: Job = {
  id: 'job-1',
  kind: 'selftest.sleep',
  title: 'Sleep',
  params: {},
  status: 'queued',
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  progress: { phase: 'queued', done: 0, total: 0, etaSeconds: null },
};

/** An evaluation as eval:get answers it: one checkpoint, one prompt, no map. */
export const SAMPLE_EVALUATION: { meta: EvaluationMeta; result: EvaluationResult } = {
  meta: {
    id: 'eval-1',
    title: 'base',
    createdAt: '2025-01-01T00:00:00.000Z',
    checkpoints: [{ label: 'base', modelId: 'model-1', method: 'base' }],
    prompts: { kind: 'sim', count: 1, seed: 0 },
    promptCount: 1,
    reward: { kind: 'gold' },
    gold: true,
    samples: 1,
    seconds: 1,
    summary: [{ label: 'base', meanReward: 1, goldSuccess: 1, winRate: null, vendiScore: null }],
  },
  result: {
    version: 1,
    settings: EvaluationSettings.parse({ samples: 1 }),
    prompts: [[{ role: 'user', content: 'What is 2 + 2?' }]],
    highRewardThreshold: 1,
    histogramEdges: [0, 1],
    checkpoints: [
      {
        label: 'base',
        folder: '/models/model-1',
        rewards: { count: 1, mean: 1, std: 0, min: 1, p10: 1, p25: 1, median: 1, p75: 1, p90: 1, max: 1 },
        histogram: [1],
        gold: { mean: 1, successRate: 1 },
        highRewardCount: 1,
        diversity: {
          count: 1,
          distinct1: 1,
          distinct2: null,
          selfBleu: null,
          meanCosineDistance: null,
          vendiScore: null,
        },
        samples: [],
      },
    ],
    winRates: [],
    map: null,
    seconds: 1,
  },
};

/** A preference run as run:get answers it (the config with its defaults filled in). */
export const SAMPLE_RUN_DETAIL: RunDetail = {
  id: 'run-1',
  config: RunConfig.parse({ name: 'run-1', method: 'drift', baseModelId: 'model-1', pairSet: 'set@v1' }),
  status: 'running',
  jobId: 'job-1',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  position: { iteration: 1, phase: 'train', step: 3 },
  iterations: [],
  notes: [],
  environment: { backend: 'cpu' },
  error: null,
};

type AnyListener = (payload: unknown) => void;

/** Records every call and lets a test emit events, as the engine would. */
export class FakeEngine implements ServedEngine {
  readonly calls: { channel: string; request: unknown }[] = [];
  readonly #listeners = new Map<EventName, Set<AnyListener>>();
  readonly handlers: EngineHandlers;

  constructor() {
    const record = <T>(channel: string, request: unknown, response: T): Promise<T> => {
      this.calls.push({ channel, request });
      return Promise.resolve(response);
    };
    const workspace = {
      path: '/fake/workspace',
      schemaVersion: 1,
      warnings: [],
      counts: { datasets: 0, models: 0, runs: 0, reports: 0, jobs: 1 },
    };
    this.handlers = {
      'app:info': (request) =>
        record('app:info', request, {
          name: 'DRIFT Workbench',
          version: '0.0.0-test',
          host: 'browser',
          platform: 'test',
          nodeVersion: process.versions.node,
        }),
      'backend:info': (request) =>
        record('backend:info', request, {
          name: 'cpu',
          tfjsVersion: '0.0.0',
          gpu: false,
          threads: 1,
          attempts: [{ name: 'cpu', package: '@tensorflow/tfjs', chosen: true, reason: 'selected' }],
          shims: [],
        }),
      'workspace:info': (request) => record('workspace:info', request, workspace),
      'settings:get': (request) => record('settings:get', request, DEFAULT_SETTINGS),
      'settings:update': (request) => record('settings:update', request, { ...DEFAULT_SETTINGS, ...request }),
      'dataset:list': (request) => record('dataset:list', request, []),
      'dataset:formats': (request) => record('dataset:formats', request, []),
      'dataset:detect': (request) =>
        record('dataset:detect', request, {
          files: [],
          skippedFiles: [],
          format: null,
          confidence: 0,
          candidates: [],
          fields: [],
          sampled: 0,
          preview: [],
          errors: [],
        }),
      'dataset:get': (request) =>
        record('dataset:get', request, {
          entry: { id: request.id, name: 'd', format: 'openai', createdAt: '', conversations: 0, sourceFiles: [] },
          report: null,
        }),
      'dataset:delete': (request) => record('dataset:delete', request, { deleted: true }),
      'model:list': (request) => record('model:list', request, []),
      'model:get': (request) =>
        record('model:get', request, {
          entry: {
            id: request.id,
            name: 'm',
            architecture: 'LlamaForCausalLM',
            parameters: 0,
            createdAt: '',
            source: '',
          },
          config: {},
          generationConfig: null,
          tokenizer: null,
          chatTemplate: null,
          files: [],
        }),
      'model:inspect': (request) =>
        record('model:inspect', request, {
          path: request.path,
          architecture: 'LlamaForCausalLM',
          modelType: 'llama',
          parameters: 0,
          dtype: 'float32',
          vocabSize: 0,
          contextLength: 0,
          hiddenSize: 0,
          layers: 0,
          tokenizer: null,
          sizeBytes: 0,
          config: {},
        }),
      'model:delete': (request) => record('model:delete', request, { deleted: true }),
      'run:list': (request) => record('run:list', request, []),
      'run:get': (request) => record('run:get', request, SAMPLE_RUN_DETAIL),
      'run:metrics': (request) => record('run:metrics', request, { rows: [], next: request.after }),
      'run:samples': (request) => record('run:samples', request, { rows: [], total: 0 }),
      'run:pairs': (request) => record('run:pairs', request, { rows: [], total: 0 }),
      'run:pause': (request) => record('run:pause', request, { ...SAMPLE_RUN_DETAIL, status: 'paused' }),
      'run:resume': (request) =>
        record('run:resume', request, { ...SAMPLE_RUN_DETAIL, status: 'queued', jobId: 'job-2' }),
      'run:cancel': (request) => record('run:cancel', request, { ...SAMPLE_RUN_DETAIL, status: 'cancelled' }),
      'report:list': (request) => record('report:list', request, []),
      'eval:list': (request) => record('eval:list', request, [SAMPLE_EVALUATION.meta]),
      'eval:get': (request) => record('eval:get', request, SAMPLE_EVALUATION),
      'eval:responses': (request) => record('eval:responses', request, { total: 0, rows: [] }),
      'report:get': (request) =>
        record('report:get', request, {
          entry: { id: request.id, title: 'Report', createdAt: '2025-01-01T00:00:00.000Z', formats: ['html'] },
          files: [{ path: 'report.html', bytes: 100 }],
          html: null,
        }),
      'report:export': (request) =>
        record('report:export', request, { destDir: request.destDir, files: [`${request.destDir}/report.html`] }),
      'report:pdf': (request) =>
        record('report:pdf', request, {
          entry: { id: request.id, title: 'Report', createdAt: '2025-01-01T00:00:00.000Z', formats: ['html', 'pdf'] },
          file: `/workspace/reports/${request.id}/report.pdf`,
        }),
      'job:list': (request) => record('job:list', request, [SAMPLE_JOB]),
      'job:get': (request) => record('job:get', request, { ...SAMPLE_JOB, id: request.id }),
      'job:start': (request) => record('job:start', request, { ...SAMPLE_JOB, kind: request.kind }),
      'job:cancel': (request) => record('job:cancel', request, { ...SAMPLE_JOB, id: request.id, status: 'cancelled' }),
      'signals:rubric': (request) => record('signals:rubric', request, { categories: [], rules: [] }),
      'signals:report': (request) => record('signals:report', request, null),
      'classifier:list': (request) => record('classifier:list', request, []),
      'conversation:list': (request) =>
        record('conversation:list', request, {
          total: 0,
          all: 0,
          offset: 0,
          items: [],
          facets: { languages: {}, hasDsat: {}, hasSat: {}, categories: {}, sources: {}, formats: {} },
          mined: false,
        }),
      'conversation:get': (request) =>
        record('conversation:get', request, {
          conversation: {
            id: request.id,
            source: { file: 'f', byteOffset: 0 },
            format: 'openai',
            messages: [],
            metadata: {},
          },
          signals: [],
          pairs: [],
        }),
      'pair:list': (request) =>
        record('pair:list', request, {
          total: 0,
          all: 0,
          offset: 0,
          items: [],
          facets: {
            categories: {},
            detectors: {},
            statuses: {},
            languages: {},
            kinds: {},
            sources: {},
            tags: {},
            confidence: [],
            length: [],
            lengthBounds: [],
          },
          stats: { byCategory: {}, confidence: [], byStatus: {} },
          undoable: false,
        }),
      'pair:get': (request) =>
        record('pair:get', request, {
          pair: {
            id: request.id,
            datasetId: request.datasetId,
            conversationId: 'c',
            kind: 'dsat',
            source: 'mined',
            context: [],
            rejected: { role: 'assistant', content: 'a', turn: 1 },
            feedback: { role: 'user', content: 'no', turn: 2 },
            categories: [],
            confidence: 1,
            detector: 'rules',
            language: 'en',
            lengths: { context: 0, rejected: 1, feedback: 2 },
            evidence: [],
          },
          decision: { status: 'pending', tags: [], note: '', at: null },
        }),
      'pair:decide': (request) => record('pair:decide', request, { batch: null, updated: 0, decisions: {} }),
      'pair:undo': (request) => record('pair:undo', request, { batch: null, restored: 0, pairIds: [] }),
      'pair:export': (request) =>
        record('pair:export', request, { format: request.format, outDir: '/tmp/x', files: [] }),
      'pairset:freeze': (request) =>
        record('pairset:freeze', request, {
          id: `${request.name}@v1`,
          name: request.name,
          version: 1,
          datasetId: request.datasetId,
          createdAt: '',
          pairs: 1,
          seedPairs: 0,
          checksum: '',
          path: `pairsets/${request.name}/v1`,
        }),
      'pairset:list': (request) => record('pairset:list', request, []),
      'pairset:get': (request) =>
        record('pairset:get', request, {
          entry: {
            id: 'set@v1',
            name: 'set',
            version: 1,
            datasetId: 'd',
            createdAt: '',
            pairs: 0,
            seedPairs: 0,
            checksum: '',
            path: 'pairsets/set/v1',
          },
          manifest: {
            id: 'set@v1',
            name: 'set',
            version: 1,
            datasetId: 'd',
            filter: {},
            createdAt: '',
            checksum: '',
            counts: { pairs: 0, seedPairs: 0, byCategory: {}, byStatus: {} },
            pairIds: [],
          },
        }),
    };
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(payload);
  }

  listenerCount(): number {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }
}

export interface TestSite {
  /** The temporary folder; the static folder is `<root>/static`, a secret file sits beside it. */
  root: string;
  staticDir: string;
  remove(): Promise<void>;
}

/** A static folder with index.html (carrying PAGE_CSP), an asset, a dotfile, and a secret outside. */
export async function createTestSite(): Promise<TestSite> {
  const root = await mkdtemp(join(tmpdir(), 'drift-server-'));
  const staticDir = join(root, 'static');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await writeFile(
    join(staticDir, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}" />` +
      '<title>Test page</title></head><body><script type="module" src="./assets/app.js"></script></body></html>',
  );
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log("app");\n');
  await writeFile(join(staticDir, 'assets', 'style.css'), 'body { margin: 0 }\n');
  await writeFile(join(staticDir, '.env'), `${SECRET}\n`);
  await writeFile(join(root, 'secret.txt'), `${SECRET}\n`);
  return { root, staticDir, remove: () => rm(root, { recursive: true, force: true }) };
}

export interface Started {
  server: RunningServer;
  engine: FakeEngine;
  site: TestSite;
  /** `127.0.0.1:PORT`, the Host header a well-behaved client sends. */
  host: string;
  origin: string;
  stop(): Promise<void>;
}

/** Starts a server on a free loopback port over a fake engine and a test site. */
export async function startTestServer(
  options: Partial<ServerOptions> = {},
  engine: FakeEngine = new FakeEngine(),
): Promise<Started> {
  const site = await createTestSite();
  const server = await startServer({ engine, staticDir: site.staticDir, validateResponses: true, ...options });
  const host = `127.0.0.1:${server.port}`;
  return {
    server,
    engine,
    site,
    host,
    origin: `http://${host}`,
    stop: async () => {
      await server.close();
      await site.remove();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request with exactly this path and these headers (Host defaults to 127.0.0.1:PORT). */
export function send(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, ...options.headers };
    const request = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers, setHost: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** POSTs a JSON request to /api/<channel> with the bearer token. */
export async function callApi(
  started: Started,
  channel: string,
  payload: unknown = {},
): Promise<{ status: number; result: { ok: boolean; value?: unknown; error?: { code: string; message: string } } }> {
  const response = await send(started.server.port, {
    method: 'POST',
    path: `/api/${channel}`,
    headers: { authorization: `Bearer ${started.server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, result: JSON.parse(response.body) };
}

/** Opens a WebSocket; resolves with the socket once open, or with the refusal status. */
export function connectEvents(
  port: number,
  options: { path?: string; headers?: Record<string, string>; origin?: string; autoPong?: boolean } = {},
): Promise<{ socket: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${options.path ?? '/api/events'}`, {
      headers: options.headers,
      origin: options.origin,
      autoPong: options.autoPong ?? true,
    });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ refused: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    // Not once: terminating a refused handshake emits an error too, after the promise settled.
    socket.on('error', (error) => reject(error));
  });
}

/** Waits for the next `count` text frames on a socket. */
export function nextFrames(socket: WebSocket, count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const frames: unknown[] = [];
    const onMessage = (data: Buffer) => {
      frames.push(JSON.parse(data.toString()));
      if (frames.length === count) {
        socket.off('message', onMessage);
        resolve(frames);
      }
    };
    socket.on('message', onMessage);
  });
}

/**
 * Language per conversation with eld (Efficient Language Detector: pure JS, offline, 60
 * languages, ISO 639-1 codes). The user's turns say what language the user writes in; their
 * first 160 characters agree with a guess from the whole text on 98-100% of the real samples
 * in shared/realdata and keep the cost bounded (eld's cost grows with the n-grams it scores).
 * Text too short or too mixed to call is `und` (undetermined, as in BCP 47).
 */
import { availableParallelism } from 'node:os';
import type { Message } from './schema.js';

const SAMPLE_CHARS = 160;
export const UNDETERMINED = 'und';

/** Returns the ISO 639-1 code of a text, or `und`. */
export type LanguageDetector = (text: string) => string;

/**
 * Loads eld's extra-small n-gram database (about 30 MB of heap once loaded, so only when the
 * language facet is wanted). It agrees with eld's larger databases on 98-100% of the samples.
 */
export async function loadLanguageDetector(): Promise<LanguageDetector> {
  const { eld } = await import('eld/extrasmall');
  return (text) => {
    const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
    if (sample.trim().length < 2) return UNDETERMINED;
    const result = eld.detect(sample);
    return result.language && result.isReliable() ? result.language : UNDETERMINED;
  };
}

/** The text a conversation's language is read from: its user turns (all turns if it has none). */
export function languageSample(messages: readonly Message[], extra: readonly Message[] = []): string {
  let text = '';
  for (const message of messages) {
    if (message.role !== 'user') continue;
    text += (text ? '\n' : '') + message.content;
    if (text.length >= SAMPLE_CHARS) return text.slice(0, SAMPLE_CHARS);
  }
  if (text.trim() === '') {
    for (const message of [...messages, ...extra]) {
      text += (text ? '\n' : '') + message.content;
      if (text.length >= SAMPLE_CHARS) return text.slice(0, SAMPLE_CHARS);
    }
  }
  return text;
}

/** The language of a conversation (see {@link languageSample}). */
export function conversationLanguage(
  detect: LanguageDetector,
  messages: readonly Message[],
  extra: readonly Message[] = [],
): string {
  return detect(languageSample(messages, extra));
}

/** Detects the languages of batches of samples off the calling thread. */
export interface LanguageWorker {
  detect(samples: string[]): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Whether detecting on a thread of its own pays off on this machine: only with cores to spare.
 * The thread holds eld's tables in a heap of its own (about 60 MB more peak RSS than detecting
 * inline) and saves time only when a core is free to run it; on two cores the job thread, the
 * host and V8's collector threads already share them (bench/import.ts on a busy 2-core machine:
 * the same wall time threaded as inline, 70 MB more RSS).
 */
export function detectionThreadPays(): boolean {
  return availableParallelism() >= 4;
}

/**
 * The detector in a worker thread of its own, so an import can score n-grams on a second core
 * while it parses and writes on the first (language detection is about half the work of an
 * import otherwise). Resolves null if the thread cannot start; callers then detect inline.
 */
export async function startLanguageWorker(): Promise<LanguageWorker | null> {
  const eldUrl = import.meta.resolve('eld/extrasmall');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.eldUrl).then(({ eld }) => {
      const detect = (text) => {
        if (text.trim().length < 2) return ${JSON.stringify(UNDETERMINED)};
        const result = eld.detect(text);
        return result.language && result.isReliable() ? result.language : ${JSON.stringify(UNDETERMINED)};
      };
      parentPort.on('message', ({ id, samples }) => parentPort.postMessage({ id, codes: samples.map(detect) }));
      parentPort.postMessage({ ready: true });
    }, (error) => parentPort.postMessage({ failed: String(error) }));
  `;
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(source, {
    eval: true,
    workerData: { eldUrl },
    name: 'drift-language',
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
  });
  const waiting = new Map<number, { resolve: (codes: string[]) => void; reject: (error: Error) => void }>();
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  const ready = await new Promise<boolean>((resolve) => {
    worker.once('message', (message: { ready?: boolean }) => resolve(message.ready === true));
    worker.once('error', () => resolve(false));
  });
  if (!ready) {
    await worker.terminate();
    return null;
  }
  worker.on('message', (message: { id: number; codes: string[] }) => {
    waiting.get(message.id)?.resolve(message.codes);
    waiting.delete(message.id);
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', () => fail(new Error('The language detection thread stopped.')));
  let next = 0;
  return {
    detect: (samples) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, samples });
      }),
    close: async () => {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

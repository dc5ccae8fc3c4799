/**
 * Picks the tfjs backend and records why each better one was not taken (shown in the UI status bar
 * and by `drift-wb doctor`). The chain, best first:
 *
 *   tensorflow-gpu (@tensorflow/tfjs-node-gpu) → tensorflow (@tensorflow/tfjs-node)
 *     → wasm (@tensorflow/tfjs-backend-wasm) → cpu (@tensorflow/tfjs)
 *
 * The native packages are optionalDependencies: their install downloads libtensorflow, which an
 * offline machine cannot do, so their absence is normal and reported, not an error.
 */
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { AppFailure } from '../api/index.js';
import type { BackendAttempt, BackendInfo, BackendName } from '../api/index.js';
import { registerWasmShims } from './compute/shims.js';
import { tf } from './compute/tf.js';

/**
 * Imports the package of one backend so that it registers that backend with the engine's tfjs.
 * Rejects when the package is absent (Node's ERR_MODULE_NOT_FOUND naming the package) or broken.
 */
export type BackendLoader = () => Promise<void>;

/** One loader per backend; tests inject loaders that simulate absent or broken packages. */
export type BackendLoaders = Readonly<Record<BackendName, BackendLoader>>;

interface Candidate {
  name: BackendName;
  package: string;
  /** The name the package registers with tfjs (both native packages register 'tensorflow'). */
  tfjsName: string;
  /** Why the backend is missing when its package is not installed, and what that means. */
  absent: string;
}

/** The fallback chain, best first. */
const CHAIN: readonly Candidate[] = [
  {
    name: 'tensorflow-gpu',
    package: '@tensorflow/tfjs-node-gpu',
    tfjsName: 'tensorflow',
    absent:
      'not installed: optional dependency @tensorflow/tfjs-node-gpu is absent ' +
      '(its install downloads libtensorflow; needs CUDA 11.2 + cuDNN 8.1 on Linux x64)',
  },
  {
    name: 'tensorflow',
    package: '@tensorflow/tfjs-node',
    tfjsName: 'tensorflow',
    absent:
      'not installed: optional dependency @tensorflow/tfjs-node is absent ' +
      '(its install downloads libtensorflow, which needs internet access at install time)',
  },
  {
    name: 'wasm',
    package: '@tensorflow/tfjs-backend-wasm',
    tfjsName: 'wasm',
    absent: 'not installed: @tensorflow/tfjs-backend-wasm is absent (it is a dependency: reinstall the workbench)',
  },
  {
    name: 'cpu',
    package: '@tensorflow/tfjs',
    tfjsName: 'cpu',
    absent: 'not installed: @tensorflow/tfjs is absent (it is a dependency: reinstall the workbench)',
  },
];

const requireFromHere = createRequire(import.meta.url);

/**
 * Imports a package by a name TypeScript and bundlers must not resolve at build time: the native
 * packages are optional and usually absent.
 */
async function importOptional(specifier: string): Promise<void> {
  await import(specifier);
}

/**
 * The wasm backend reads its .wasm files relative to its own script in Node (`__dirname`), which a
 * bundler moves; pointing it at the package's dist folder works bundled and unbundled.
 */
async function loadWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const distFolder = path.dirname(requireFromHere.resolve('@tensorflow/tfjs-backend-wasm'));
  try {
    wasm.setWasmPaths(distFolder + path.sep);
  } catch {
    // Thrown only after a failed initialisation; the next tf.setBackend('wasm') reports the cause.
  }
}

/** The loaders of the real packages. */
export const defaultLoaders: BackendLoaders = {
  'tensorflow-gpu': () => importOptional('@tensorflow/tfjs-node-gpu'),
  tensorflow: () => importOptional('@tensorflow/tfjs-node'),
  wasm: loadWasm,
  // The cpu backend ships inside @tensorflow/tfjs, which ./compute/tf.ts has already loaded.
  cpu: async () => {},
};

let cache: { preference: 'auto' | BackendName; loaders: BackendLoaders; info: Promise<BackendInfo> } | undefined;

/**
 * Selects the tfjs backend: the preferred one if it works, else the best working one of the chain.
 * Every backend gets an attempt with a reason ("selected", "not installed: …", the import error,
 * "tf.setBackend('wasm') failed: …", "not tried: …", "skipped: preference is …"), in chain order.
 * Idempotent: a second call with the same preference and loaders returns the first result (and
 * re-activates that backend if something switched tfjs to another one meanwhile).
 * Throws AppFailure('backend_unavailable') only if even the cpu backend fails.
 */
export async function selectBackend(
  preference: 'auto' | BackendName = 'auto',
  loaders: BackendLoaders = defaultLoaders,
): Promise<BackendInfo> {
  if (cache === undefined || cache.preference !== preference || cache.loaders !== loaders) {
    // One walk at a time: each switches the process-wide tfjs backend.
    const previous = cache?.info.catch(() => undefined);
    const info = Promise.resolve(previous).then(() => walkChain(preference, loaders));
    cache = { preference, loaders, info };
    info.catch(() => {
      if (cache?.info === info) cache = undefined;
    });
  }
  const info = await cache.info;
  const tfjsName = candidateOf(info.name).tfjsName;
  if (tf.getBackend() === tfjsName) return info;
  if (tf.findBackendFactory(tfjsName) !== null && (await tf.setBackend(tfjsName))) return info;
  // The backend was removed or broke since it was selected: select afresh.
  cache = undefined;
  return selectBackend(preference, loaders);
}

function candidateOf(name: BackendName): Candidate {
  const candidate = CHAIN.find((entry) => entry.name === name);
  if (candidate === undefined) throw new Error(`unknown backend ${name}`);
  return candidate;
}

async function walkChain(preference: 'auto' | BackendName, loaders: BackendLoaders): Promise<BackendInfo> {
  const order =
    preference === 'auto' ? [...CHAIN] : [candidateOf(preference), ...CHAIN.filter((c) => c.name !== preference)];
  const reasons = new Map<BackendName, string>();
  let chosen: Candidate | undefined;
  let shims: string[] = [];
  let native: NativeLoaded | undefined;

  for (const candidate of order) {
    const outcome = await tryCandidate(candidate, loaders[candidate.name], native);
    native = outcome.native ?? native;
    if (outcome.failure === undefined) {
      chosen = candidate;
      shims = outcome.shims;
      reasons.set(candidate.name, outcome.note === undefined ? 'selected' : `selected (${outcome.note})`);
      break;
    }
    const fallback = preference !== 'auto' && candidate.name === preference ? '; fell back to the automatic order' : '';
    reasons.set(candidate.name, outcome.failure + fallback);
  }

  const attempts: BackendAttempt[] = CHAIN.map((candidate) => ({
    name: candidate.name,
    package: candidate.package,
    chosen: candidate === chosen,
    reason:
      reasons.get(candidate.name) ??
      (preference !== 'auto' && chosen?.name === preference
        ? `skipped: preference is ${preference}`
        : 'not tried: a better backend was selected'),
  }));
  if (chosen === undefined) {
    throw new AppFailure('backend_unavailable', 'No tfjs backend could be initialised, not even cpu.', { attempts });
  }
  return {
    name: chosen.name,
    tfjsVersion: tf.version.tfjs ?? tf.version_core,
    gpu: chosen.name === 'tensorflow-gpu',
    threads: await threadsOf(chosen),
    attempts,
    shims,
  };
}

/** A native package that registered its 'tensorflow' backend, and so loaded libtensorflow. */
interface NativeLoaded {
  by: Candidate;
  /** Its backend initialised (the GPU package without a usable GPU still runs on the CPU). */
  working: boolean;
}

interface Outcome {
  /** Why the candidate cannot be used; undefined when it is now the active backend. */
  failure?: string;
  /** A remark on a successful selection. */
  note?: string;
  shims: string[];
  native?: NativeLoaded;
}

async function tryCandidate(
  candidate: Candidate,
  load: BackendLoader,
  loaded: NativeLoaded | undefined,
): Promise<Outcome> {
  const isNative = candidate.tfjsName === 'tensorflow';
  const fail = (failure: string, working?: boolean): Outcome => ({
    failure,
    shims: [],
    ...(working === undefined ? {} : { native: { by: candidate, working } }),
  });
  let note: string | undefined;
  if (isNative && loaded !== undefined) {
    // Both native packages bind libtensorflow and register 'tensorflow'; a second one cannot be
    // loaded beside the first, so the backend of the package already loaded is all there is.
    if (!loaded.working) {
      return fail(
        `not tried: ${loaded.by.package} already loaded libtensorflow into this process and its backend failed; ` +
          'a second libtensorflow cannot be loaded beside it',
      );
    }
    note = `the 'tensorflow' backend of ${loaded.by.package}, running on the CPU`;
  } else {
    try {
      await load();
    } catch (error) {
      if (isMissingPackage(error, candidate.package)) return fail(candidate.absent);
      return fail(`import of ${candidate.package} failed: ${messageOf(error)}`);
    }
  }
  if (tf.findBackendFactory(candidate.tfjsName) === null) {
    return fail(
      `${candidate.package} loaded but registered no '${candidate.tfjsName}' backend with the workbench's ` +
        '@tensorflow/tfjs (is a second copy of @tensorflow/tfjs-core installed?)',
    );
  }
  const shims = candidate.name === 'wasm' ? registerWasmShims() : [];
  const failure = await activate(candidate.tfjsName);
  if (failure !== undefined) {
    return fail(`tf.setBackend('${candidate.tfjsName}') failed: ${failure}`, isNative ? false : undefined);
  }
  if (candidate.name === 'tensorflow-gpu' && !usesGpuDevice()) {
    return fail(
      'loaded, but TensorFlow found no usable CUDA device (check the NVIDIA driver, CUDA 11.2 and cuDNN 8.1)',
      true,
    );
  }
  return { shims, ...(note === undefined ? {} : { note }) };
}

/**
 * Makes `tfjsName` the active backend and returns why it failed, if it did. tf.setBackend only
 * logs an initialisation error and resolves false, so the registered factory is wrapped for the
 * duration of the call to catch the error itself.
 */
async function activate(tfjsName: string): Promise<string | undefined> {
  const entry = tf.engine().registryFactory[tfjsName];
  if (entry === undefined) return `no backend named '${tfjsName}' is registered`;
  const original = entry.factory;
  let failure: unknown;
  entry.factory = async () => {
    try {
      return await original();
    } catch (error) {
      failure = error;
      throw error;
    }
  };
  try {
    if (await tf.setBackend(tfjsName)) return undefined;
    return failure === undefined ? 'its initialisation reported failure' : messageOf(failure);
  } catch (error) {
    return messageOf(error);
  } finally {
    entry.factory = original;
  }
}

/** tfjs-node(-gpu)'s backend says whether TensorFlow placed ops on a GPU. */
function usesGpuDevice(): boolean {
  return (tf.backend() as { isUsingGpuDevice?: unknown }).isUsingGpuDevice === true;
}

async function threadsOf(candidate: Candidate): Promise<number> {
  if (candidate.name === 'cpu') return 1;
  if (candidate.name === 'wasm') {
    // The wasm backend runs multithreaded only where WASM_HAS_MULTITHREAD_SUPPORT holds, which tfjs
    // never reports in Node (tfjs issue #3830; see PERF-NOTES.md).
    const multithreaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    if (!multithreaded) return 1;
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return Math.max(1, wasm.getThreadsCount());
  }
  return os.availableParallelism();
}

/** Node's "cannot find package X" for this very package (not for one of its own dependencies). */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return new RegExp(`['"]${packageName.replace(/[/.]/g, '\\$&')}['"/]`).test(messageOf(error));
}

function messageOf(error: unknown): string {
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error !== null && 'message' in error
        ? String(error.message)
        : String(error);
  return message.split('\n')[0]?.trim() || 'unknown error';
}

import os from 'node:os';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendInfo } from '../../src-main/api/index.js';
import type { KernelBackend } from '@tensorflow/tfjs';
import { defaultLoaders, selectBackend } from '../../src-main/engine/backend.js';
import type { BackendLoaders } from '../../src-main/engine/backend.js';
import { tf } from '../../src-main/engine/compute/tf.js';

const GPU_ABSENT =
  'not installed: optional dependency @tensorflow/tfjs-node-gpu is absent ' +
  '(its install downloads libtensorflow; needs CUDA 11.2 + cuDNN 8.1 on Linux x64)';
const NATIVE_ABSENT =
  'not installed: optional dependency @tensorflow/tfjs-node is absent ' +
  '(its install downloads libtensorflow, which needs internet access at install time)';

/** What Node throws when a package is not installed. */
function absent(packageName: string) {
  return vi.fn(async () => {
    throw Object.assign(new Error(`Cannot find package '${packageName}' imported from /app/engine/backend.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  });
}

/** A native package whose addon cannot load (what a missing libtensorflow looks like). */
function brokenImport() {
  return vi.fn(async () => {
    throw new Error(
      'libtensorflow.so.2: cannot open shared object file: No such file or directory\n    at Module._load',
    );
  });
}

/** A native package that registers 'tensorflow' but whose backend fails to start. */
function registersBrokenBackend() {
  return vi.fn(async () => {
    tf.registerBackend('tensorflow', () => {
      throw new Error('Failed to create session: CUDA driver version is insufficient for CUDA runtime version');
    });
  });
}

/** A native package that registers a working 'tensorflow' backend (a cpu backend standing in). */
function registersWorkingBackend(usingGpu: boolean) {
  return vi.fn(async () => {
    const createCpu = tf.findBackendFactory('cpu');
    tf.registerBackend('tensorflow', async () => Object.assign(await createCpu(), { isUsingGpuDevice: usingGpu }));
  });
}

function reasons(info: BackendInfo): Record<string, string> {
  return Object.fromEntries(info.attempts.map((attempt) => [attempt.name, attempt.reason]));
}

afterEach(() => {
  if (tf.findBackendFactory('tensorflow') !== null) tf.removeBackend('tensorflow');
});

describe('selectBackend with injected loaders', () => {
  it('records an absent and a broken native backend and selects wasm with its shims', async () => {
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'),
      tensorflow: brokenImport(),
    };
    const info = await selectBackend('auto', loaders);

    expect(BackendInfo.parse(info)).toEqual(info);
    expect(info).toMatchObject({
      name: 'wasm',
      gpu: false,
      threads: 1,
      tfjsVersion: tf.version.tfjs,
      shims: ['UnsortedSegmentSum'],
    });
    expect(info.attempts.map((attempt) => [attempt.name, attempt.package, attempt.chosen])).toEqual([
      ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu', false],
      ['tensorflow', '@tensorflow/tfjs-node', false],
      ['wasm', '@tensorflow/tfjs-backend-wasm', true],
      ['cpu', '@tensorflow/tfjs', false],
    ]);
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': GPU_ABSENT,
      tensorflow:
        'import of @tensorflow/tfjs-node failed: libtensorflow.so.2: cannot open shared object file: No such file or directory',
      wasm: 'selected',
      cpu: 'not tried: a better backend was selected',
    });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('reports the initialisation error of a native backend that loads but cannot start', async () => {
    const nativeLoader = vi.fn(async () => {});
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': registersBrokenBackend(),
      tensorflow: nativeLoader,
    };
    const info = await selectBackend('auto', loaders);

    expect(info.name).toBe('wasm');
    expect(reasons(info)['tensorflow-gpu']).toBe(
      "tf.setBackend('tensorflow') failed: Failed to create session: CUDA driver version is insufficient for CUDA runtime version",
    );
    // A second libtensorflow cannot be loaded beside the first, so tfjs-node is not imported.
    expect(reasons(info).tensorflow).toBe(
      'not tried: @tensorflow/tfjs-node-gpu already loaded libtensorflow into this process and its backend failed; ' +
        'a second libtensorflow cannot be loaded beside it',
    );
    expect(nativeLoader).not.toHaveBeenCalled();
  });

  it('falls back to cpu when everything better is absent or broken', async () => {
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'),
      tensorflow: absent('@tensorflow/tfjs-node'),
      wasm: vi.fn(async () => {
        throw new Error('WebAssembly.instantiate(): out of memory');
      }),
    };
    const info = await selectBackend('auto', loaders);

    expect(info).toMatchObject({ name: 'cpu', gpu: false, threads: 1, shims: [] });
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': GPU_ABSENT,
      tensorflow: NATIVE_ABSENT,
      wasm: 'import of @tensorflow/tfjs-backend-wasm failed: WebAssembly.instantiate(): out of memory',
      cpu: 'selected',
    });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('reports a package that loads into another copy of tfjs-core', async () => {
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': vi.fn(async () => {}),
      tensorflow: absent('@tensorflow/tfjs-node'),
    };
    const info = await selectBackend('auto', loaders);

    expect(info.name).toBe('wasm');
    expect(reasons(info)['tensorflow-gpu']).toMatch(
      /^@tensorflow\/tfjs-node-gpu loaded but registered no 'tensorflow' backend/,
    );
  });

  it('takes a working GPU backend first, with one thread per core', async () => {
    const nativeLoader = vi.fn(async () => {});
    const wasmLoader = vi.fn(async () => {});
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': registersWorkingBackend(true),
      tensorflow: nativeLoader,
      wasm: wasmLoader,
    };
    const info = await selectBackend('auto', loaders);

    expect(info).toMatchObject({ name: 'tensorflow-gpu', gpu: true, threads: os.availableParallelism(), shims: [] });
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': 'selected',
      tensorflow: 'not tried: a better backend was selected',
      wasm: 'not tried: a better backend was selected',
      cpu: 'not tried: a better backend was selected',
    });
    expect(nativeLoader).not.toHaveBeenCalled();
    expect(wasmLoader).not.toHaveBeenCalled();
    expect(tf.getBackend()).toBe('tensorflow');

    // A selected backend that disappears is selected afresh rather than returned stale.
    tf.removeBackend('tensorflow');
    expect((await selectBackend('auto', loaders)).name).toBe('tensorflow-gpu');
    expect(loaders['tensorflow-gpu']).toHaveBeenCalledTimes(2);
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('uses the GPU package on the CPU, without loading a second libtensorflow, when it finds no GPU', async () => {
    const nativeLoader = vi.fn(async () => {});
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': registersWorkingBackend(false),
      tensorflow: nativeLoader,
    };
    const info = await selectBackend('auto', loaders);

    expect(info).toMatchObject({ name: 'tensorflow', gpu: false, threads: os.availableParallelism() });
    expect(reasons(info)['tensorflow-gpu']).toMatch(/^loaded, but TensorFlow found no usable CUDA device/);
    expect(reasons(info).tensorflow).toBe(
      "selected (the 'tensorflow' backend of @tensorflow/tfjs-node-gpu, running on the CPU)",
    );
    expect(nativeLoader).not.toHaveBeenCalled();
  });

  it('respects a preference and does not load the others', async () => {
    const gpuLoader = absent('@tensorflow/tfjs-node-gpu');
    const nativeLoader = absent('@tensorflow/tfjs-node');
    const loaders: BackendLoaders = { ...defaultLoaders, 'tensorflow-gpu': gpuLoader, tensorflow: nativeLoader };
    const info = await selectBackend('cpu', loaders);

    expect(info).toMatchObject({ name: 'cpu', shims: [] });
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': 'skipped: preference is cpu',
      tensorflow: 'skipped: preference is cpu',
      wasm: 'skipped: preference is cpu',
      cpu: 'selected',
    });
    expect(gpuLoader).not.toHaveBeenCalled();
    expect(nativeLoader).not.toHaveBeenCalled();
    expect(tf.getBackend()).toBe('cpu');
  });

  it('falls back along the automatic order when the preferred backend fails, and says so', async () => {
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'),
      tensorflow: brokenImport(),
    };
    const info = await selectBackend('tensorflow', loaders);

    expect(info.name).toBe('wasm');
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': GPU_ABSENT,
      tensorflow:
        'import of @tensorflow/tfjs-node failed: libtensorflow.so.2: cannot open shared object file: ' +
        'No such file or directory; fell back to the automatic order',
      wasm: 'selected',
      cpu: 'not tried: a better backend was selected',
    });
  });

  it('returns the cached selection until the preference changes, re-activating its backend', async () => {
    const gpuLoader = absent('@tensorflow/tfjs-node-gpu');
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': gpuLoader,
      tensorflow: absent('@tensorflow/tfjs-node'),
    };
    const first = await selectBackend('auto', loaders);
    await tf.setBackend('cpu');
    const second = await selectBackend('auto', loaders);

    expect(second).toBe(first);
    expect(gpuLoader).toHaveBeenCalledTimes(1);
    expect(tf.getBackend()).toBe('wasm');

    const preferCpu = await selectBackend('cpu', loaders);
    expect(preferCpu.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('runs overlapping selections one after the other; the last one leaves its backend active', async () => {
    const loaders: BackendLoaders = {
      ...defaultLoaders,
      'tensorflow-gpu': absent('@tensorflow/tfjs-node-gpu'),
      tensorflow: absent('@tensorflow/tfjs-node'),
    };
    const [preferCpu, automatic] = await Promise.all([selectBackend('cpu', loaders), selectBackend('auto', loaders)]);

    expect(preferCpu.name).toBe('cpu');
    expect(automatic.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('selectBackend on this machine', () => {
  const resolve = createRequire(import.meta.url).resolve;
  const installed = (name: string) => {
    try {
      resolve(name);
      return true;
    } catch {
      return false;
    }
  };
  const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

  it.skipIf(nativeInstalled)('selects wasm and records both native packages as not installed', async () => {
    const info = await selectBackend();

    expect(info).toMatchObject({ name: 'wasm', gpu: false, threads: 1, shims: ['UnsortedSegmentSum'] });
    expect(reasons(info)).toEqual({
      'tensorflow-gpu': GPU_ABSENT,
      tensorflow: NATIVE_ABSENT,
      wasm: 'selected',
      cpu: 'not tried: a better backend was selected',
    });
    // The wasm module really runs: a product computed on it.
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(product).toBe(11);
    expect((tf.backend() as KernelBackend).constructor.name).toBe('BackendWasm');
  });
});

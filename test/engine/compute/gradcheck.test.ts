import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { AppFailure } from '../../../src-main/api/index.js';
import { defaultLoaders, selectBackend } from '../../../src-main/engine/backend.js';
import { checkGradients } from '../../../src-main/engine/compute/gradcheck.js';
import { gradientSelfTest } from '../../../src-main/engine/jobs/selftest.js';
import type { GradCheckReport } from '../../../src-main/engine/compute/gradcheck.js';
import { registerWasmShims } from '../../../src-main/engine/compute/shims.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { JobContext } from '../../../src-main/engine/jobs/types.js';

const PARAMETERS = [
  ['embedding', [13, 8]],
  ['norm.gain', [8]],
  ['norm.bias', [8]],
  ['attention.query', [8, 8]],
  ['attention.key', [8, 8]],
  ['attention.value', [8, 8]],
  ['attention.output', [8, 8]],
];

// Every backend this machine has: the selected one, wasm and cpu (the wasm package is a dependency),
// and the native 'tensorflow' backend where tfjs-node(-gpu) is installed and selectable.
const info = await selectBackend();
await defaultLoaders.wasm();
registerWasmShims();
const present = ['tensorflow', 'wasm', 'cpu'].filter((name) => tf.findBackendFactory(name) !== null);

/**
 * A broken UnsortedSegmentSum for wasm that overwrites instead of accumulating, as a shim with that
 * bug would: the last token of each id wins.
 */
const overwritingSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as { numSegments: number };
  const wasm = backend as BackendWasm;
  const values = wasm.readSync(x.dataId) as Float32Array;
  const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
  const rowSize = values.length / ids.length;
  const sums = new Float32Array(numSegments * rowSize);
  ids.forEach((id, row) => sums.set(values.subarray(row * rowSize, (row + 1) * rowSize), id * rowSize));
  return wasm.makeOutput([numSegments, ...x.shape.slice(1)], 'float32', undefined, sums);
};

async function withBrokenSegmentSum<T>(run: () => Promise<T>): Promise<T> {
  const shim = tf.getKernel('UnsortedSegmentSum', 'wasm') as KernelConfig;
  tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
  tf.registerKernel({ ...shim, kernelFunc: overwritingSegmentSum });
  try {
    return await run();
  } finally {
    tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    registerWasmShims();
  }
}

function failing(report: GradCheckReport): string[] {
  return report.parameters.filter((check) => !(check.maxRelError < report.tolerance)).map((check) => check.name);
}

function jobContext(signal = new AbortController().signal) {
  const progress = vi.fn<JobContext['progress']>();
  const context: JobContext = {
    jobId: 'job-1',
    workspaceDir: '/nonexistent',
    backend: info,
    signal,
    progress,
    throwIfCancelled: () => signal.throwIfAborted(),
    output: vi.fn(),
  };
  return { context, progress };
}

beforeAll(() => {
  expect(present).toEqual(expect.arrayContaining(['wasm', 'cpu']));
});

describe.each(present)('checkGradients on the %s backend', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('passes, checking six entries of every parameter', async () => {
    const report = await checkGradients({ seed: 1 });

    expect(report.backend).toBe(backend);
    expect(report.parameters.map((check) => [check.name, check.shape])).toEqual(PARAMETERS);
    expect(report.parameters.every((check) => check.checked === 6)).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.maxRelError).toBeLessThan(report.tolerance);
    expect(report.maxRelError).toBe(Math.max(...report.parameters.map((check) => check.maxRelError)));
  });

  it('passes for other seeds too', async () => {
    for (const seed of [2, 3, 4]) expect((await checkGradients({ seed })).passed).toBe(true);
  });

  it('fails when an analytic gradient is 5 % off, naming that parameter only', async () => {
    const report = await checkGradients({ seed: 1, corrupt: { parameter: 'attention.value', factor: 1.05 } });

    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['attention.value']);
  });

  it('leaves no tensors behind', async () => {
    await checkGradients({ seed: 1 });
    const before = tf.memory().numTensors;
    for (const seed of [1, 2, 3]) await checkGradients({ seed });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkGradients', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('catches a segment sum that does not accumulate repeated token ids', async () => {
    const report = await withBrokenSegmentSum(() => checkGradients({ seed: 1 }));

    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['embedding']);
  });

  it('reports progress after every entry', async () => {
    const calls: Array<[number, number]> = [];
    await checkGradients({ seed: 1, onProgress: (done, total) => calls.push([done, total]) });

    expect(calls).toEqual(Array.from({ length: 42 }, (_, index) => [index + 1, 42]));
  });

  it('stops with the abort reason, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const reason = new Error('cancelled by the user');
    const run = checkGradients({
      seed: 1,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 5) controller.abort(reason);
      },
    });

    await expect(run).rejects.toBe(reason);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('gradientSelfTest job', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('returns the passing report and reports progress as "gradient check"', async () => {
    const { context, progress } = jobContext();
    const report = (await gradientSelfTest({ seed: 2 }, context)) as GradCheckReport;

    expect(report).toMatchObject({ backend: 'wasm', seed: 2, passed: true });
    expect(progress).toHaveBeenCalledTimes(42);
    expect(progress).toHaveBeenLastCalledWith('gradient check', 42, 42);
  });

  it('fails with gradient_check_failed, the report in its details, when a kernel is wrong', async () => {
    const { context } = jobContext();
    const failure = await withBrokenSegmentSum(() =>
      gradientSelfTest({}, context).then(
        () => undefined,
        (error) => error,
      ),
    );

    expect(failure).toBeInstanceOf(AppFailure);
    expect(failure).toMatchObject({ code: 'gradient_check_failed', details: { backend: 'wasm', passed: false } });
    expect((failure as AppFailure).message).toMatch(
      /^Gradients on the wasm backend disagree .*: embedding \(relative error/,
    );
  });

  it('rejects unknown or invalid parameters', async () => {
    const { context } = jobContext();
    await expect(gradientSelfTest({ seed: -1 }, context)).rejects.toMatchObject({ code: 'job_invalid_params' });
    await expect(gradientSelfTest({ steps: 3 }, context)).rejects.toMatchObject({ code: 'job_invalid_params' });
  });

  it('stops when the job is cancelled', async () => {
    const controller = new AbortController();
    const { context, progress } = jobContext(controller.signal);
    progress.mockImplementation((_phase, done) => {
      if (done === 3) controller.abort(new AppFailure('job_cancelled'));
    });

    await expect(gradientSelfTest({}, context)).rejects.toMatchObject({ code: 'job_cancelled' });
    expect(progress).toHaveBeenCalledTimes(3);
  });
});

/**
 * The self-test jobs: a timed job that does nothing but report progress and honour cancellation
 * (it exercises the job machinery end to end — worker, progress, ETA, cancel — in tests and in
 * `drift-wb selftest`), and the gradient check of the worker's backend (compute/gradcheck.ts).
 */
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import { checkGradients } from '../compute/gradcheck.js';
import type { JobHandler } from './types.js';

const SleepParams = z
  .object({
    seconds: z.number().positive().max(3600).default(5),
    steps: z.number().int().min(1).max(10_000).default(20),
    /** Stream `{ step }` as job output after each step (exercises job:output). */
    echo: z.boolean().default(false),
  })
  .strict();

export const sleepSelfTest: JobHandler = async (params, context) => {
  const parsed = SleepParams.safeParse(params);
  if (!parsed.success) throw new AppFailure('job_invalid_params', parsed.error.issues.map((i) => i.message).join('; '));
  const { seconds, steps, echo } = parsed.data;
  const stepMs = (seconds * 1000) / steps;
  for (let step = 0; step < steps; step++) {
    context.throwIfCancelled();
    context.progress('waiting', step, steps);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, stepMs);
      context.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (echo) context.output({ step });
  }
  context.throwIfCancelled();
  context.progress('waiting', steps, steps);
  return { seconds, steps };
};

const GradientSelfTestParams = z.object({ seed: z.number().int().nonnegative().max(0xffffffff).optional() }).strict();

/**
 * Job 'selftest.gradients': runs checkGradients on the worker's backend, reporting progress; fails
 * with gradient_check_failed (the report in its details) when any parameter exceeds the tolerance.
 */
export const gradientSelfTest: JobHandler = async (params, context) => {
  const parsed = GradientSelfTestParams.safeParse(params);
  if (!parsed.success) {
    throw new AppFailure('job_invalid_params', parsed.error.issues.map((issue) => issue.message).join('; '));
  }
  const report = await checkGradients({
    ...(parsed.data.seed === undefined ? {} : { seed: parsed.data.seed }),
    signal: context.signal,
    onProgress: (done, total) => context.progress('gradient check', done, total),
  });
  if (!report.passed) {
    const failing = report.parameters.filter((check) => !(check.maxRelError < report.tolerance));
    throw new AppFailure(
      'gradient_check_failed',
      `Gradients on the ${report.backend} backend disagree with finite differences: ` +
        failing.map((check) => `${check.name} (relative error ${check.maxRelError.toExponential(1)})`).join(', ') +
        ` exceed the tolerance ${report.tolerance}.`,
      report,
    );
  }
  return report;
};

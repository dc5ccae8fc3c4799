/**
 * A timed job that does nothing but report progress and honour cancellation. It exercises the
 * job machinery end to end (worker, progress, ETA, cancel) in tests and in `drift-wb selftest`.
 */
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
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

/**
 * The job kinds the engine can run, each loaded lazily inside the worker so a worker only
 * imports the code its job needs. Later features (import, mining, training, evaluation,
 * reports) register their kinds here and in JobKind (src-main/api/schemas.ts).
 */
import type { JobKind } from '../../api/index.js';
import type { JobHandler } from './types.js';

export const JOB_KINDS: Record<JobKind, { title: string; load: () => Promise<JobHandler> }> = {
  'selftest.gradients': {
    title: 'Gradient self-test',
    load: async () => (await import('../compute/gradcheck.js')).gradientSelfTest,
  },
  'selftest.sleep': {
    title: 'Timed self-test',
    load: async () => (await import('./selftest.js')).sleepSelfTest,
  },
};

/**
 * The job kinds the engine can run, each loaded lazily inside the worker so a worker only
 * imports the code its job needs. Later features (import, mining, training, evaluation,
 * reports) register their kinds here and in JobKind (src-main/api/schemas.ts).
 */
import type { JobKind } from '../../api/index.js';
import type { JobCompletion, JobHandler } from './types.js';

export interface JobKindSpec {
  title: string;
  /** Loads the handler; runs inside the worker thread. */
  load: () => Promise<JobHandler>;
  /**
   * Loads an optional completion step that runs on the host after the worker succeeded, e.g. to
   * add the dataset or run the job produced to the catalog (workers never write the catalog).
   */
  complete?: () => Promise<JobCompletion>;
}

export const JOB_KINDS: Record<JobKind, JobKindSpec> = {
  'selftest.gradients': {
    title: 'Gradient self-test',
    load: async () => (await import('../compute/gradcheck.js')).gradientSelfTest,
  },
  'selftest.sleep': {
    title: 'Timed self-test',
    load: async () => (await import('./selftest.js')).sleepSelfTest,
  },
};

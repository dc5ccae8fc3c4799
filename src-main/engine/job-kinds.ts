/**
 * The job kinds the engine can run, each loaded lazily inside the worker so a worker only
 * imports the code its job needs. A feature (import, mining, training, evaluation, reports)
 * registers its kinds here and in JobKind (src-main/api/schemas.ts).
 *
 * The registry sits at the engine's top, beside engine.ts that hands it to the job manager and
 * job-worker.ts that loads handlers from it: jobs/ (manager, protocol, types) is infrastructure the
 * features use, and knows none of them.
 */
import type { JobKind } from '../api/index.js';
import type { JobKindSpec } from './jobs/types.js';

/**
 * The import worker's heap. A small old generation makes V8 collect early: the import streams,
 * and its peak RSS on a 1 GB file stays under 300 MB (bench/import.ts) instead of growing to the
 * default limit. A young generation of 72 MB (24 MB semi-spaces) rather than 48 saves ~20% of the
 * import's time in scavenges for ~15 MB more RSS. bench/import.ts and the memory test run their
 * child processes with the same limits.
 */
export const IMPORT_HEAP_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 72 } as const;

/** `node` flags giving a process the heap a worker gets with `limits` (V8's young generation is 3 semi-spaces). */
export function heapFlags(limits: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number }): string[] {
  return [
    `--max-old-space-size=${limits.maxOldGenerationSizeMb}`,
    `--max-semi-space-size=${limits.maxYoungGenerationSizeMb / 3}`,
  ];
}

export const JOB_KINDS: Record<JobKind, JobKindSpec> = {
  'selftest.gradients': {
    title: 'Gradient self-test',
    load: async () => (await import('./jobs/selftest.js')).gradientSelfTest,
  },
  'selftest.sleep': {
    title: 'Timed self-test',
    load: async () => (await import('./jobs/selftest.js')).sleepSelfTest,
  },
  'dataset.import': {
    title: 'Import data',
    load: async () => (await import('./data/import.js')).importDataset,
    complete: async () => (await import('./data/completion.js')).completeImport,
    resourceLimits: IMPORT_HEAP_LIMITS,
    backend: false,
  },
  'signals.mine': {
    title: 'Mine SAT/DSAT signals and pairs',
    load: async () => (await import('./signals/mine.js')).mineSignals,
    complete: async () => (await import('./signals/mine.js')).mineCompletion,
    // Detectors (rules, labels, a trained classifier's weights) run in plain JS: no tfjs needed.
    backend: false,
    // Mining streams one conversation at a time; a small heap keeps it honest (and 100k
    // conversations are mined within it in test/engine/signals/mine-scale.test.ts).
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 48 },
  },
  'signals.train': {
    title: 'Train a SAT/DSAT classifier',
    load: async () => (await import('./signals/classifier/train.js')).trainClassifierJob,
  },
  'model.import': {
    title: 'Import a model',
    load: async () => (await import('./model/jobs.js')).importModel,
    complete: async () => (await import('./model/completion.js')).completeModelImport,
  },
  'model.generate': {
    title: 'Generate text',
    load: async () => (await import('./model/jobs.js')).generateWithModel,
  },
  'model.train-sft': {
    title: 'Supervised fine-tuning',
    load: async () => (await import('./train/job.js')).trainSft,
    complete: async () => (await import('./train/completion.js')).completeTraining,
  },
  'run.train': {
    title: 'Preference training run',
    load: async () => (await import('./runs/job.js')).trainRun,
    complete: async () => (await import('./runs/catalog.js')).completeRun,
  },
  'run.export': {
    title: 'Export a run for TRL',
    load: async () => (await import('./export/jobs.js')).exportRunJob,
    // Writing data files and configs needs no tensors.
    backend: false,
  },
  'run.import': {
    title: 'Import a cluster run',
    load: async () => (await import('./export/jobs.js')).importRunJob,
    complete: async () => (await import('./export/jobs.js')).completeRunImport,
  },
  'report.build': {
    title: 'Build a report',
    load: async () => (await import('./report/job.js')).buildReportJob,
    complete: async () => (await import('./report/job.js')).completeReportBuild,
    // Reading run folders and writing HTML/Markdown/JSON needs no tensors.
    backend: false,
  },
  'reward.train': {
    title: 'Train a reward model',
    load: async () => (await import('./evaluations/reward-job.js')).trainRewardModel,
    complete: async () => (await import('./evaluations/reward-job.js')).completeRewardTraining,
  },
  'eval.run': {
    title: 'Evaluate checkpoints',
    load: async () => (await import('./evaluations/job.js')).runEvaluation,
  },
};

/**
 * Learning-rate schedules with linear warmup, as pure functions of the step (HF transformers
 * optimization.py: get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup). A
 * schedule's whole state is the step, so a resumed run continues it exactly.
 */

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  /** The peak learning rate, reached at the end of warmup. */
  learningRate: number;
  /** Optimizer steps of linear warmup from 0. */
  warmupSteps: number;
  /** Optimizer steps in the whole run (the schedule reaches `minimumRatio` × peak there). */
  totalSteps: number;
  /** Where linear and cosine decay end, as a fraction of the peak. Default 0 (HF's). */
  minimumRatio?: number;
}

/**
 * The learning rate of optimizer update `step` (0-based). As in HF, warmup gives step / warmupSteps
 * (so a warmed-up run's first update uses 0); decay then falls linearly, or along half a cosine,
 * from the peak at warmupSteps to `minimumRatio` × peak at totalSteps, and stays there.
 */
export function learningRateAt(schedule: Schedule, step: number): number {
  const { learningRate, warmupSteps, totalSteps } = schedule;
  const minimum = schedule.minimumRatio ?? 0;
  if (step < warmupSteps) return (learningRate * step) / Math.max(1, warmupSteps);
  if (schedule.kind === 'constant') return learningRate;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  const factor = schedule.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return learningRate * (minimum + (1 - minimum) * factor);
}

/**
 * The data the chart components take, and how a chart follows a growing series: new points are
 * appended to the chart's own arrays; only a series that changed otherwise (a new run, a reset)
 * is replaced.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface LineSeries {
  /** Stable across updates: a series with the same id is appended to, not rebuilt. */
  id: string;
  label: string;
  /** A CSS custom property of the chart palette (`--series-1`) or a colour. */
  color: string;
  points: readonly ChartPoint[];
  /** The right-hand axis (another unit, e.g. the learning rate beside the gradient norm). */
  axis?: 'y' | 'y1';
  /** false: dots only (a few evaluation points). */
  line?: boolean;
}

/** A labelled vertical line across the chart at `x` (where an iteration begins). */
export interface ChartMarker {
  x: number;
  label: string;
}

export type SeriesUpdate = { kind: 'append'; points: ChartPoint[] } | { kind: 'replace'; points: ChartPoint[] };

/**
 * How to bring `shown` up to `next`: append the tail when `shown` is a prefix of `next` (checked
 * on its last point, as series only grow), else replace everything.
 */
export function seriesUpdate(shown: readonly ChartPoint[], next: readonly ChartPoint[]): SeriesUpdate {
  const last = shown.length - 1;
  const prefix =
    next.length >= shown.length && (last < 0 || (next[last]!.x === shown[last]!.x && next[last]!.y === shown[last]!.y));
  return prefix ? { kind: 'append', points: next.slice(shown.length) } : { kind: 'replace', points: next.slice() };
}

/** The number of points over all series (the chart wrapper's data-points). */
export function pointCount(series: readonly Pick<LineSeries, 'points'>[]): number {
  return series.reduce((sum, one) => sum + one.points.length, 0);
}

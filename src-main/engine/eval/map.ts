/**
 * The picture of drift-paper.md §5.3: every response embedded and projected to 2-D (UMAP, as the
 * paper; PCA as the fallback), a reward-weighted Gaussian KDE on a grid pooled over every method's
 * responses (the paper normalises by Z_all over all responses), the global high-reward region, and
 * each method's share of it. The paper leaves bandwidth and threshold unstated, so both are settings.
 */
import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';
import type { ProjectionMethod, RegionShare } from '../../api/index.js';
import { Random } from '../model/index.js';

export interface ProjectionOptions {
  method: ProjectionMethod;
  /** UMAP's n_neighbors (capped at n − 1). Default 15. */
  neighbors?: number;
  /** Seeds UMAP's random numbers. Default 0. */
  seed?: number;
}

/**
 * 2-D coordinates of the vectors (same order). UMAP (umap-js, seeded with the workbench's
 * generator, so the same input and seed give the same map) needs at least 4 points; below that, or
 * with `method` 'pca', the first two principal components (ml-pca, SVD of the centred data) are
 * used. Returns the method actually used.
 */
export function projectTo2d(
  vectors: readonly (readonly number[])[],
  options: ProjectionOptions,
): { points: [number, number][]; method: ProjectionMethod } {
  const count = vectors.length;
  if (count === 0) return { points: [], method: options.method };
  if (options.method === 'umap' && count >= 4) {
    const random = new Random(options.seed ?? 0);
    const umap = new UMAP({
      nComponents: 2,
      nNeighbors: Math.max(2, Math.min(options.neighbors ?? 15, count - 1)),
      random: () => random.nextFloat(),
    });
    const embedding = umap.fit(vectors.map((vector) => [...vector]));
    return { points: embedding.map((row) => [row[0] ?? 0, row[1] ?? 0]), method: 'umap' };
  }
  return { points: principalComponents(vectors), method: 'pca' };
}

function principalComponents(vectors: readonly (readonly number[])[]): [number, number][] {
  if (vectors.length < 2) return vectors.map(() => [0, 0]);
  const pca = new PCA(
    vectors.map((vector) => [...vector]),
    { center: true, scale: false },
  );
  const components = Math.min(2, pca.getEigenvalues().length);
  const projected = pca.predict(
    vectors.map((vector) => [...vector]),
    { nComponents: components },
  );
  return projected.to2DArray().map((row) => [row[0] ?? 0, row[1] ?? 0]);
}

export interface DensityGrid {
  bounds: { xMin: number; xMax: number; yMin: number; yMax: number };
  gridSize: number;
  bandwidth: number;
  /** gridSize² values summing to 1 (row-major, row 0 at yMin). */
  density: number[];
}

/**
 * A Gaussian KDE on a gridSize × gridSize grid over the points' bounding box (widened by 10% on
 * each side), each point weighted: density(g) = Σ w_i · exp(−|g − p_i|² / 2h²), normalised to sum to 1
 * over the grid. Bandwidth: `bandwidth`, or Scott's rule in 2-D, h = σ̄ · n^(−1/6) with σ̄ the mean
 * of the two axes' standard deviations (1 when the points do not spread).
 */
export function weightedDensity(
  points: readonly (readonly [number, number])[],
  weights: readonly number[],
  gridSize: number,
  bandwidth: number | null,
): DensityGrid {
  const xs = points.map((point) => point[0]);
  const ys = points.map((point) => point[1]);
  const spread = (values: number[]) => {
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
  };
  const sigma = (spread(xs) + spread(ys)) / 2 || 1;
  const h = bandwidth ?? sigma * points.length ** (-1 / 6);
  const widen = (low: number, high: number): [number, number] => {
    const margin = high > low ? (high - low) * 0.1 : h;
    return [low - margin, high + margin];
  };
  const [xMin, xMax] = widen(Math.min(...xs), Math.max(...xs));
  const [yMin, yMax] = widen(Math.min(...ys), Math.max(...ys));
  const density = new Array<number>(gridSize * gridSize).fill(0);
  let total = 0;
  for (let row = 0; row < gridSize; row++) {
    const y = cellCenter(yMin, yMax, gridSize, row);
    for (let column = 0; column < gridSize; column++) {
      const x = cellCenter(xMin, xMax, gridSize, column);
      let value = 0;
      points.forEach(([px, py], index) => {
        value += (weights[index] as number) * Math.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * h * h));
      });
      density[row * gridSize + column] = value;
      total += value;
    }
  }
  return {
    bounds: { xMin, xMax, yMin, yMax },
    gridSize,
    bandwidth: h,
    density: total > 0 ? density.map((value) => value / total) : density.fill(1 / (gridSize * gridSize)),
  };
}

function cellCenter(low: number, high: number, cells: number, index: number): number {
  return low + ((index + 0.5) * (high - low)) / cells;
}

/** The cell holding a point (clamped to the grid). */
export function cellOf(grid: DensityGrid, [x, y]: readonly [number, number]): number {
  const { xMin, xMax, yMin, yMax } = grid.bounds;
  const clamp = (value: number) => Math.min(grid.gridSize - 1, Math.max(0, value));
  const column = clamp(Math.floor(((x - xMin) / (xMax - xMin)) * grid.gridSize));
  const row = clamp(Math.floor(((y - yMin) / (yMax - yMin)) * grid.gridSize));
  return row * grid.gridSize + column;
}

/**
 * The high-reward region: the densest cells that together hold at least `mass` of the density
 * (a highest-density region; ties broken by cell index). Returns the cell indices, ascending.
 */
export function highDensityRegion(density: readonly number[], mass: number): number[] {
  const order = density
    .map((_, index) => index)
    .sort((a, b) => (density[b] as number) - (density[a] as number) || a - b);
  const region: number[] = [];
  let held = 0;
  for (const index of order) {
    if (held >= mass - 1e-12) break;
    region.push(index);
    held += density[index] as number;
  }
  return region.sort((a, b) => a - b);
}

/**
 * Each group's share of the region, from its high-reward points: `pointShare` is the share of those
 * points inside the region; `coverage` is the share of the region's density mass within one
 * bandwidth of at least one of them, so a method whose good outputs crowd one corner of the region
 * covers little of it (the paper's "narrow sub-regions").
 */
export function regionShares(
  grid: DensityGrid,
  region: readonly number[],
  groups: readonly { checkpoint: number; points: readonly (readonly [number, number])[] }[],
): RegionShare[] {
  const inRegion = new Set(region);
  const regionMass = region.reduce((sum, cell) => sum + (grid.density[cell] as number), 0);
  const { xMin, xMax, yMin, yMax } = grid.bounds;
  return groups.map(({ checkpoint, points }) => {
    const inside = points.filter((point) => inRegion.has(cellOf(grid, point))).length;
    let covered = 0;
    for (const cell of region) {
      const x = cellCenter(xMin, xMax, grid.gridSize, cell % grid.gridSize);
      const y = cellCenter(yMin, yMax, grid.gridSize, Math.floor(cell / grid.gridSize));
      if (points.some(([px, py]) => (px - x) ** 2 + (py - y) ** 2 <= grid.bandwidth ** 2)) {
        covered += grid.density[cell] as number;
      }
    }
    return {
      checkpoint,
      highRewardPoints: points.length,
      pointShare: points.length === 0 ? 0 : inside / points.length,
      coverage: regionMass > 0 ? Math.min(1, covered / regionMass) : 0,
    };
  });
}

import { describe, expect, it } from 'vitest';
import {
  cellOf,
  highDensityRegion,
  projectTo2d,
  regionShares,
  weightedDensity,
} from '../../../src-main/engine/eval/map.js';
import { Random } from '../../../src-main/engine/model/random.js';

/** Two clusters of 10-D points around different centres (seeded). */
function clusters(count: number): number[][] {
  const random = new Random(3);
  return Array.from({ length: count }, (_, index) =>
    Array.from({ length: 10 }, (_, dimension) => (index % 2 === 0 ? (dimension < 5 ? 5 : 0) : 0) + random.nextFloat()),
  );
}

describe('projection', () => {
  it('UMAP is deterministic for a seed and returns one 2-D point per vector', () => {
    const vectors = clusters(30);
    const first = projectTo2d(vectors, { method: 'umap', seed: 1, neighbors: 5 });
    const second = projectTo2d(vectors, { method: 'umap', seed: 1, neighbors: 5 });
    expect(first.method).toBe('umap');
    expect(first.points).toHaveLength(30);
    for (const point of first.points) expect(point.every(Number.isFinite)).toBe(true);
    expect(second.points).toEqual(first.points);
    expect(projectTo2d(vectors, { method: 'umap', seed: 2, neighbors: 5 }).points).not.toEqual(first.points);
  });

  it('PCA is deterministic, centred, and separates the clusters on the first axis', () => {
    const vectors = clusters(20);
    const { points, method } = projectTo2d(vectors, { method: 'pca' });
    expect(method).toBe('pca');
    expect(points).toHaveLength(20);
    expect(projectTo2d(vectors, { method: 'pca' }).points).toEqual(points);
    const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
    expect(meanX).toBeCloseTo(0, 8);
    const evenSigns = new Set(points.filter((_, index) => index % 2 === 0).map(([x]) => Math.sign(x)));
    const oddSigns = new Set(points.filter((_, index) => index % 2 === 1).map(([x]) => Math.sign(x)));
    expect(evenSigns.size).toBe(1);
    expect(oddSigns.size).toBe(1);
    expect([...evenSigns][0]).not.toBe([...oddSigns][0]);
  });

  it('falls back to PCA below 4 points', () => {
    expect(
      projectTo2d(
        [
          [1, 2],
          [3, 4],
          [5, 7],
        ],
        { method: 'umap' },
      ).method,
    ).toBe('pca');
  });
});

describe('reward-weighted density and the high-reward region', () => {
  const points: [number, number][] = [
    [0, 0],
    [0.1, 0],
    [0, 0.1],
    [5, 5],
    [5.1, 5],
  ];

  it('sums to 1 and follows the weights', () => {
    const grid = weightedDensity(points, [1, 1, 1, 0, 0], 16, 0.5);
    expect(grid.density.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
    expect(grid.density[cellOf(grid, [0, 0])]).toBeGreaterThan(grid.density[cellOf(grid, [5, 5])] as number);
    expect(grid.bandwidth).toBe(0.5);
    const scott = weightedDensity(points, [1, 1, 1, 1, 1], 8, null);
    expect(scott.bandwidth).toBeGreaterThan(0);
  });

  it('the region holds the requested mass in the densest cells; shares count points and coverage', () => {
    const grid = weightedDensity(points, [1, 1, 1, 0, 0], 16, 0.5);
    const region = highDensityRegion(grid.density, 0.5);
    const mass = region.reduce((sum, cell) => sum + (grid.density[cell] as number), 0);
    expect(mass).toBeGreaterThanOrEqual(0.5);
    const smallest = Math.min(...region.map((cell) => grid.density[cell] as number));
    const outside = grid.density.filter((_, cell) => !region.includes(cell));
    expect(Math.max(...outside)).toBeLessThanOrEqual(smallest);
    const shares = regionShares(grid, region, [
      { checkpoint: 0, points: points.slice(0, 3) },
      { checkpoint: 1, points: points.slice(3) },
      { checkpoint: 2, points: [] },
    ]);
    expect(shares[0]).toMatchObject({ checkpoint: 0, highRewardPoints: 3, pointShare: 1 });
    expect(shares[0]?.coverage).toBeGreaterThan(0.9);
    expect(shares[1]).toMatchObject({ pointShare: 0, coverage: 0 });
    expect(shares[2]).toMatchObject({ highRewardPoints: 0, pointShare: 0, coverage: 0 });
  });
});

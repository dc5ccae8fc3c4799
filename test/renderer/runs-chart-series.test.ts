import { describe, expect, it } from 'vitest';
import { pointCount, seriesUpdate } from '../../src-renderer/src/components/charts/series.js';

const points = (...xs: number[]) => xs.map((x) => ({ x, y: x * 2 }));

describe('seriesUpdate', () => {
  it('appends only the new points when the shown series is a prefix', () => {
    expect(seriesUpdate(points(1, 2), points(1, 2, 3, 4))).toEqual({ kind: 'append', points: points(3, 4) });
    expect(seriesUpdate([], points(1))).toEqual({ kind: 'append', points: points(1) });
    expect(seriesUpdate(points(1, 2), points(1, 2))).toEqual({ kind: 'append', points: [] });
  });

  it('replaces a series that shrank or changed (another run, a rewritten file)', () => {
    expect(seriesUpdate(points(1, 2, 3), points(1, 2))).toEqual({ kind: 'replace', points: points(1, 2) });
    expect(
      seriesUpdate(points(1, 2), [
        { x: 1, y: 2 },
        { x: 2, y: 5 },
        { x: 3, y: 6 },
      ]),
    ).toMatchObject({
      kind: 'replace',
    });
    expect(seriesUpdate(points(1), [])).toEqual({ kind: 'replace', points: [] });
  });

  it('never hands out the caller’s array (chart.js takes ownership of what it gets)', () => {
    const next = points(1, 2);
    const update = seriesUpdate([], next);
    expect(update.points).not.toBe(next);
  });
});

describe('pointCount', () => {
  it('adds the points of every series', () => {
    expect(pointCount([{ points: points(1, 2) }, { points: [] }, { points: points(3) }])).toBe(3);
  });
});

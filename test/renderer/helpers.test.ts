import { describe, expect, it } from 'vitest';
import { formatEta, percentOf } from '../../src-renderer/src/lib/format.js';
import { defaultDatasetName, formatBytes, highlightText, sourceLabel } from '../../src-renderer/src/lib/import-text.js';
import { hashOf, viewFromHash } from '../../src-renderer/src/lib/views.js';

describe('navigation hashes', () => {
  it('maps hashes to views and back, falling back to home', () => {
    expect(viewFromHash('#/runs')).toBe('runs');
    expect(viewFromHash('#/runs?x=1')).toBe('runs');
    expect(viewFromHash('#/nope')).toBe('home');
    expect(viewFromHash('')).toBe('home');
    expect(viewFromHash(hashOf('pairs'))).toBe('pairs');
  });
});

describe('progress formatting', () => {
  it('never shows 100 % before the work is done', () => {
    expect(percentOf(999, 1000)).toBe(99);
    expect(percentOf(1000, 1000)).toBe(100);
    expect(percentOf(5, 0)).toBe(0);
  });
  it('formats ETAs', () => {
    expect(formatEta(null)).toBe('estimating…');
    expect(formatEta(75)).toBe('1 min 15 s');
    expect(formatEta(3 * 3600 + 120)).toBe('3 h 2 min');
  });
});

describe('import text helpers', () => {
  it('splits text around personal-data spans, clipping overlaps, and joins back', () => {
    const text = 'mail me at a@b.co or 555-1234';
    const short = highlightText(
      text,
      [
        { start: 11, end: 17, kind: 'email' },
        { start: 14, end: 20, kind: 'phone' },
      ],
      100,
    );
    expect(short.segments.map((s) => s.text).join('')).toBe(text);
    expect(short.segments.filter((s) => s.pii).map((s) => [s.text, s.pii])).toEqual([
      ['a@b.co', 'email'],
      [' or', 'phone'],
    ]);
    expect(highlightText(text, [], 4)).toEqual({ segments: [{ text: 'mail' }], truncated: true });
  });
  it('labels sources and sizes', () => {
    expect(sourceLabel({ file: 'wild.jsonl', line: 3 })).toBe('wild.jsonl:3');
    expect(sourceLabel({ file: 'd.parquet', row: 12 })).toBe('d.parquet row 12');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(999)).toBe('999 B');
    expect(defaultDatasetName('/data/wild.jsonl.gz')).toBe('wild');
  });
});

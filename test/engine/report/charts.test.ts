/** The SVG chart module and the escaping every report text goes through. */
import { describe, expect, it } from 'vitest';
import {
  barChart,
  colorOf,
  formatNumber,
  histogram,
  lineChart,
  markerLabelRows,
  niceTicks,
  scatterChart,
} from '../../../src-main/engine/report/charts.js';
import { runLineStyle, wilsonInterval } from '../../../src-main/engine/report/document.js';
import { escapeMarkdownInline, escapeMarkup, markdownCodeBlock } from '../../../src-main/engine/report/escape.js';
import { HOSTILE } from './fixtures.js';

/** The tags of an SVG string (text never holds a raw `<`, so each match is a real tag). */
function tags(svg: string): string[] {
  return [...svg.matchAll(/<\/?[A-Za-z][^>]*>/g)].map((match) => match[0]);
}

/** Checks that tags open and close in order, as an XML parser would. */
function expectBalanced(svg: string): void {
  const stack: string[] = [];
  for (const tag of tags(svg)) {
    if (tag.endsWith('/>')) continue;
    const name = /^<\/?([A-Za-z]+)/.exec(tag)![1]!;
    if (tag.startsWith('</')) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

describe('niceTicks', () => {
  it('covers the range with round, evenly spaced values', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const ticks = niceTicks(-0.37, 2.1);
    expect(ticks[0]).toBeLessThanOrEqual(-0.37);
    expect(ticks.at(-1)).toBeGreaterThanOrEqual(2.1);
    const steps = ticks.slice(1).map((tick, index) => Number((tick - ticks[index]!).toPrecision(6)));
    expect(new Set(steps).size).toBe(1);
    expect([1, 2, 5].map((unit) => unit * 10 ** Math.floor(Math.log10(steps[0]!)))).toContain(steps[0]);
  });

  it('widens a single value and survives non-finite input', () => {
    const single = niceTicks(5, 5);
    expect(single[0]).toBeLessThan(5);
    expect(single.at(-1)).toBeGreaterThan(5);
    expect(niceTicks(Number.NaN, Number.POSITIVE_INFINITY).length).toBeGreaterThan(1);
  });
});

describe('formatNumber', () => {
  it('keeps four significant digits and uses exponents for tiny and huge values', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(5e-5)).toBe('5e-5');
    expect(formatNumber(1234567)).toBe('1.235e+6');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-2.5)).toBe('-2.5');
  });
});

describe('charts', () => {
  it('draws a line chart with markers, escaping its labels', () => {
    const svg = lineChart({
      id: 'loss',
      title: `Loss ${HOSTILE}`,
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        { name: `train ${HOSTILE}`, points: [0, 1, 2, 3].map((x) => ({ x, y: 1 - x / 10 })) },
        { name: 'eval', points: [{ x: 3, y: Number.NaN }], dash: '5 3' },
      ],
      markers: [{ x: 2, label: 'iter 1' }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expectBalanced(svg);
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).toContain('&lt;/svg&gt;');
    expect(svg).not.toContain('\u0001');
    expect(svg.match(/<path d="M/g)).toHaveLength(1);
    expect(svg).toContain('stroke-dasharray="3 3"');
    expect(svg).toContain('>iter 1</text>');
  });

  it('draws a series in its own colour and dash, in the plot and the legend', () => {
    const svg = lineChart({
      id: 'styled',
      title: 'Styled',
      xLabel: '',
      yLabel: '',
      series: [
        { name: 'a', points: [0, 1].map((x) => ({ x, y: x })), color: '#123456', dash: '1 3' },
        { name: 'b', points: [0, 1].map((x) => ({ x, y: 1 - x })), color: '#123456', dash: '5 3' },
      ],
    });
    expect(svg).toContain('<path d="M62 ');
    expect(svg.match(/stroke="#123456" stroke-width="1.8" stroke-dasharray="1 3"/g)).toHaveLength(1);
    expect(svg.match(/stroke="#123456" stroke-width="1.8" stroke-dasharray="5 3"/g)).toHaveLength(1);
    // The legend shows the same patterns.
    expect(svg.match(/stroke="#123456" stroke-width="2.5" stroke-dasharray="1 3"/g)).toHaveLength(1);
    expect(svg.match(/stroke="#123456" stroke-width="2.5" stroke-dasharray="5 3"/g)).toHaveLength(1);
  });

  it('stacks the labels of markers close together instead of overlapping them', () => {
    // The seed phase and iteration 1 a few pixels apart; iteration 2 far to the right.
    expect(
      markerLabelRows([
        { x: 100, label: 'seed' },
        { x: 108, label: 'iter 1' },
        { x: 400, label: 'iter 2' },
      ]),
    ).toEqual([0, 1, 0]);
    // Order of the input does not matter; a third crowded label takes a third row.
    expect(
      markerLabelRows([
        { x: 110, label: 'c' },
        { x: 100, label: 'seed' },
        { x: 105, label: 'b' },
      ]),
    ).toEqual([2, 0, 1]);
    const svg = lineChart({
      id: 'crowded',
      title: 'Crowded',
      xLabel: 'step',
      yLabel: 'loss',
      series: [{ name: 'train', points: [0, 100].map((x) => ({ x, y: x })) }],
      markers: [
        { x: 0, label: 'seed' },
        { x: 1, label: 'iter 1' },
      ],
    });
    const labelYs = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-size="9"[^>]*>(seed|iter 1)</g)].map((match) =>
      Number(match[1]),
    );
    expect(labelYs).toHaveLength(2);
    expect(Math.abs(labelYs[0]! - labelYs[1]!)).toBeGreaterThanOrEqual(10);
  });

  it('gives up to 16 runs a look of their own in the training curves', () => {
    const looks = Array.from({ length: 16 }, (_, index) => runLineStyle(index));
    const train = new Set(looks.map((look) => `${look.color} ${look.train}`));
    const heldOut = new Set(looks.map((look) => `${look.color} ${look.heldOut}`));
    expect(train.size).toBe(16);
    expect(heldOut.size).toBe(16);
    // A run's training and held-out lines never look alike.
    for (const look of looks) expect(look.heldOut).not.toBe(look.train);
    expect(looks[0]).toEqual({ color: looks[8]!.color, train: null, heldOut: '5 3' });
  });

  it('thins long series and says when there is no data', () => {
    const points = Array.from({ length: 5000 }, (_, x) => ({ x, y: Math.sin(x) }));
    const svg = lineChart({ id: 'long', title: 'Long', xLabel: '', yLabel: '', series: [{ name: 's', points }] });
    const path = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(path.split('L').length).toBeLessThanOrEqual(601);
    expect(path).toContain(`L`);
    const empty = lineChart({ id: 'empty', title: 'Empty', xLabel: '', yLabel: '', series: [] });
    expect(empty).toContain('>no data</text>');
    expectBalanced(empty);
  });

  it('draws bars with one error bar per interval and a reference line', () => {
    const svg = barChart({
      id: 'wins',
      title: 'Win rates',
      yLabel: 'win rate',
      categories: ['a', `b ${HOSTILE}`, 'c'],
      series: [{ name: 'win rate', values: [0.6, null, 0.7], intervals: [[0.5, 0.7], null, [0.6, 0.8]] }],
      reference: { y: 0.5, label: '50 %' },
    });
    expectBalanced(svg);
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg.match(/stroke-width="1.2"/g)).toHaveLength(2);
    expect(svg).toContain('>50 %</text>');
    // Long category labels are truncated on the axis, complete in the tooltip.
    expect(svg).toContain('<title>b &lt;/svg&gt;');
  });

  it('draws histograms and a scatter plot with shaded regions', () => {
    const bins = [0, 1, 2].map((bin) => ({ lower: bin, upper: bin + 1, count: bin + 1 }));
    const hist = histogram({
      id: 'h',
      title: 'H',
      xLabel: 'x',
      yLabel: 'n',
      series: [
        { name: 'one', bins },
        { name: 'two', bins },
      ],
    });
    expectBalanced(hist);
    expect(hist.match(/fill-opacity="0.8"><title>/g)).toHaveLength(6);
    expect(hist).not.toContain('<pattern');
    // Past the palette's 8 colours a series' bars (and its legend box) are hatched in its colour.
    const many = histogram({
      id: 'many',
      title: 'Many',
      xLabel: 'x',
      yLabel: 'n',
      series: Array.from({ length: 10 }, (_, index) => ({ name: `s${index}`, bins })),
    });
    expectBalanced(many);
    expect(many.match(/<pattern id="hatch-many-\d+"/g)).toEqual([
      '<pattern id="hatch-many-8"',
      '<pattern id="hatch-many-9"',
    ]);
    expect(many).toContain(`<rect width="2.5" height="5" fill="${colorOf(0)}"/>`);
    expect(many.match(/fill="url\(#hatch-many-9\)"/g)).toHaveLength(3 + 1); // three bars and the legend box
    expect(many.match(new RegExp(`fill="${colorOf(1)}" fill-opacity="0.8"`, 'g'))).toHaveLength(3); // series 1 keeps its plain colour
    const scatter = scatterChart({
      id: 'map',
      title: 'Map',
      xLabel: 'x',
      yLabel: 'y',
      points: [
        { x: 0, y: 0, group: 'base' },
        { x: 1, y: 1, group: `drift ${HOSTILE}` },
      ],
      regions: [{ x0: 0, x1: 0.5, y0: 0, y1: 0.5 }],
      regionLabel: 'high-reward region',
      density: [{ x0: 0, x1: 1, y0: 0, y1: 1, value: 0.5 }],
    });
    expectBalanced(scatter);
    expect(scatter.match(/<circle /g)).toHaveLength(2);
    expect(scatter).toContain('fill="#F0E442" fill-opacity="0.45"');
    expect(scatter).toContain('>high-reward region<title>');
  });
});

describe('escaping', () => {
  it('escapes markup characters and drops what XML forbids', () => {
    expect(escapeMarkup(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeMarkup('a\u0000b\u0008c\td\ne')).toBe('a\uFFFDb\uFFFDc\td\ne');
    expect(escapeMarkup('lone \uD800 surrogate, pair \uD83D\uDE00')).toBe('lone \uFFFD surrogate, pair \uD83D\uDE00');
  });

  it('keeps Markdown prose and table cells inert', () => {
    const escaped = escapeMarkdownInline('a | b\n*c* <script> [x](y) `z`');
    expect(escaped).not.toContain('\n');
    expect(escaped).not.toMatch(/(^|[^\\])\|/);
    expect(escaped).toContain('&lt;script&gt;');
    expect(escaped).toContain('\\*c\\*');
    expect(escaped).toContain('\\[x\\]\\(y\\)');
  });

  it('fences code blocks longer than any backtick run in the text', () => {
    expect(markdownCodeBlock('plain')).toBe('```text\nplain\n```');
    const block = markdownCodeBlock('has ```` four and ``` three');
    expect(block.startsWith('`````text\n')).toBe(true);
    expect(block.endsWith('\n`````')).toBe(true);
  });
});

describe('wilsonInterval', () => {
  it('stays inside [0, 1] and around the rate', () => {
    const [low, high] = wilsonInterval(0.5, 100);
    expect(low).toBeCloseTo(0.4038, 3);
    expect(high).toBeCloseTo(0.5962, 3);
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(1, 10)[1]).toBe(1);
  });
});

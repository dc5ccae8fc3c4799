/**
 * Static SVG charts for reports: line charts (several series, iteration markers), bar charts with
 * error bars (confidence intervals), histograms and a scatter plot with shaded regions (the 2-D
 * map of outputs and its high-reward region).
 *
 * Hand-written rather than taken from a library: a report is rendered in Node (a worker thread),
 * where there is no DOM and no canvas. chart.js (what the app's live charts use) draws on a
 * canvas, and the SVG charting libraries (d3, Vega) need a DOM or bring a large dependency
 * tree; none is installed. A report needs four plain chart types with no interaction, which is a
 * few hundred lines of string building. Every label goes through {@link escapeMarkup}, so user
 * text (run names, category names) cannot become markup. Each SVG is standalone (it carries its
 * xmlns and a white background), so the same string is inlined in report.html and written as
 * charts/<id>.svg next to report.md.
 */
import { escapeMarkup } from './escape.js';

export interface Point {
  x: number;
  y: number;
}

export interface LineSeries {
  name: string;
  points: Point[];
  /** Its colour (default: the palette's, by position). */
  color?: string;
  /** An SVG stroke-dasharray (e.g. '5 3' for a held-out split); solid when absent. */
  dash?: string;
}

/** A vertical line across the plot, e.g. where an iteration starts. */
export interface XMarker {
  x: number;
  label: string;
}

interface ChartBase {
  /** File-name-safe id, unique in one report (used for charts/<id>.svg and clip-path ids). */
  id: string;
  title: string;
  width?: number;
  height?: number;
}

export interface LineChartSpec extends ChartBase {
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  markers?: XMarker[];
}

export interface BarSeries {
  name: string;
  /** One value per category; null leaves a gap. */
  values: (number | null)[];
  /** Optional [low, high] per category, drawn as an error bar (a confidence interval). */
  intervals?: ([number, number] | null)[];
}

export interface BarChartSpec extends ChartBase {
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  /** A horizontal reference line, e.g. a 50 % win rate. */
  reference?: { y: number; label: string };
}

export interface HistogramBin {
  lower: number;
  upper: number;
  count: number;
}

export interface HistogramSpec extends ChartBase {
  xLabel: string;
  yLabel: string;
  series: { name: string; bins: HistogramBin[] }[];
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** The series (legend entry and colour) the point belongs to, e.g. a method. */
  group: string;
}

export interface Rectangle {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface ScatterSpec extends ChartBase {
  xLabel: string;
  yLabel: string;
  points: ScatterPoint[];
  /** Shaded areas drawn under the points (e.g. the cells of the high-reward region). */
  regions?: Rectangle[];
  regionLabel?: string;
  /** Density cells drawn under everything, darker where `value` (0-1) is higher. */
  density?: (Rectangle & { value: number })[];
}

/** Okabe & Ito's colour-blind-safe palette (yellow last: it is faint on white). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];
const REGION_FILL = '#F0E442';
const TEXT = '#222222';
const GRID = '#e3e3e3';
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
/** Series longer than this are thinned (every k-th point and the last) to keep files small. */
const MAX_LINE_POINTS = 600;
const CHAR_WIDTH = 6.2;

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^k (Heckbert, "Nice numbers for graph labels"). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  let low = Number.isFinite(min) ? min : 0;
  let high = Number.isFinite(max) ? max : 1;
  if (low > high) [low, high] = [high, low];
  if (low === high) {
    const pad = Math.abs(low) * 0.1 || 1;
    low -= pad;
    high += pad;
  }
  const rough = (high - low) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  const step = (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude;
  const start = Math.floor(low / step + 1e-9) * step;
  const end = Math.ceil(high / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let index = 0; start + index * step <= end + step * 1e-6 && index < 100; index++) {
    ticks.push(Number((start + index * step).toPrecision(12)));
  }
  return ticks;
}

/** A short, readable number: 4 significant digits, exponent form for very small or large magnitudes. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e6) {
    return value.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, 'e');
  }
  return String(Number(value.toPrecision(digits)));
}

/* ------------------------------------------------------------------ frame */

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface Scale {
  (value: number): number;
  ticks: number[];
}

function linearScale(ticks: number[], from: number, to: number): Scale {
  const low = ticks[0] ?? 0;
  const high = ticks.at(-1) ?? 1;
  const span = high - low || 1;
  const scale = ((value: number) => from + ((value - low) / span) * (to - from)) as Scale;
  scale.ticks = ticks;
  return scale;
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'chart';
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/**
 * The row (0, 1, …) of each marker's label, so that labels of markers close together (e.g. the
 * seed phase and iteration 1, a few steps apart) stack instead of overlapping: each label takes
 * the first row whose previous label ends left of it. Labels are 9px text, about 0.75 CHAR_WIDTH a character.
 */
export function markerLabelRows(markers: Array<{ x: number; label: string }>): number[] {
  const rowEnds: number[] = [];
  const order = markers.map((_, index) => index).sort((a, b) => markers[a]!.x - markers[b]!.x);
  const rows: number[] = new Array<number>(markers.length).fill(0);
  for (const index of order) {
    const { x, label } = markers[index]!;
    const start = x + 3;
    let row = rowEnds.findIndex((end) => end + 4 <= start);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = start + label.length * CHAR_WIDTH * 0.75;
    rows[index] = row;
  }
  return rows;
}

/** Legend rows under the title; returns the SVG and the height it takes. */
function legend(
  entries: { name: string; color: string; kind: 'line' | 'box'; dash?: string | null }[],
  width: number,
  y: number,
) {
  if (entries.length === 0) return { svg: '', height: 0 };
  const parts: string[] = [];
  let x = 12;
  let row = 0;
  for (const entry of entries) {
    const label = truncate(entry.name, 40);
    const itemWidth = 22 + label.length * CHAR_WIDTH + 14;
    if (x + itemWidth > width - 8 && x > 12) {
      x = 12;
      row++;
    }
    const top = y + row * 16;
    const swatch =
      entry.kind === 'box'
        ? `<rect x="${x}" y="${top - 8}" width="14" height="10" fill="${entry.color}" fill-opacity="0.7"/>`
        : `<line x1="${x}" y1="${top - 3}" x2="${x + 16}" y2="${top - 3}" stroke="${entry.color}" stroke-width="2.5"${entry.dash ? ` stroke-dasharray="${entry.dash}"` : ''}/>`;
    parts.push(
      `${swatch}<text x="${x + 20}" y="${top}" font-size="11" fill="${TEXT}">${escapeMarkup(label)}<title>${escapeMarkup(entry.name)}</title></text>`,
    );
    x += itemWidth;
  }
  return { svg: parts.join(''), height: (row + 1) * 16 + 4 };
}

function open(spec: ChartBase, width: number, height: number): string {
  const title = escapeMarkup(spec.title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}" ${FONT}>` +
    `<title>${title}</title><rect width="${width}" height="${height}" fill="#ffffff"/>` +
    `<text x="12" y="18" font-size="13" font-weight="600" fill="${TEXT}">${escapeMarkup(truncate(spec.title, 90))}</text>`
  );
}

function axes(frame: Frame, x: Scale | null, y: Scale, xLabel: string, yLabel: string): string {
  const { left, right, top, bottom, width, height } = frame;
  const parts: string[] = [];
  for (const tick of y.ticks) {
    const position = round(y(tick));
    parts.push(
      `<line x1="${left}" y1="${position}" x2="${width - right}" y2="${position}" stroke="${GRID}"/>`,
      `<text x="${left - 6}" y="${position}" font-size="10" fill="${TEXT}" text-anchor="end" dominant-baseline="middle">${escapeMarkup(formatNumber(tick))}</text>`,
    );
  }
  if (x) {
    for (const tick of x.ticks) {
      const position = round(x(tick));
      parts.push(
        `<line x1="${position}" y1="${height - bottom}" x2="${position}" y2="${height - bottom + 4}" stroke="${TEXT}"/>`,
        `<text x="${position}" y="${height - bottom + 15}" font-size="10" fill="${TEXT}" text-anchor="middle">${escapeMarkup(formatNumber(tick))}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="${TEXT}"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="${TEXT}"/>`,
  );
  if (xLabel) {
    parts.push(
      `<text x="${round((left + width - right) / 2)}" y="${height - 6}" font-size="11" fill="${TEXT}" text-anchor="middle">${escapeMarkup(xLabel)}</text>`,
    );
  }
  if (yLabel) {
    const middle = round((top + height - bottom) / 2);
    parts.push(
      `<text transform="translate(13 ${middle}) rotate(-90)" font-size="11" fill="${TEXT}" text-anchor="middle">${escapeMarkup(truncate(yLabel, 40))}</text>`,
    );
  }
  return parts.join('');
}

function empty(frame: Frame, message = 'no data'): string {
  return `<text x="${round(frame.width / 2)}" y="${round((frame.top + frame.height - frame.bottom) / 2)}" font-size="12" fill="#888888" text-anchor="middle">${escapeMarkup(message)}</text>`;
}

/**
 * The fill of series `index` in a chart of boxes (histogram bars, their legend): the palette's
 * colour, and past the palette's length a hatch of that colour, so a repeated colour never looks
 * the same twice. Returns the fill and the pattern's definition (empty for a plain colour).
 */
function boxFill(chartId: string, index: number): { fill: string; defs: string } {
  const color = colorOf(index);
  if (index < PALETTE.length) return { fill: color, defs: '' };
  const id = `hatch-${safeId(chartId)}-${index}`;
  return {
    fill: `url(#${id})`,
    defs: `<pattern id="${id}" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)"><rect width="5" height="5" fill="#ffffff"/><rect width="2.5" height="5" fill="${color}"/></pattern>`,
  };
}

function clip(id: string, frame: Frame): { defs: string; attribute: string } {
  const clipId = `clip-${safeId(id)}`;
  const { left, right, top, bottom, width, height } = frame;
  return {
    defs: `<defs><clipPath id="${clipId}"><rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}"/></clipPath></defs>`,
    attribute: `clip-path="url(#${clipId})"`,
  };
}

function finite(values: number[]): number[] {
  return values.filter((value) => Number.isFinite(value));
}

function extent(values: number[]): [number, number] {
  const numbers = finite(values);
  if (numbers.length === 0) return [0, 1];
  return [Math.min(...numbers), Math.max(...numbers)];
}

function thin(points: Point[]): Point[] {
  if (points.length <= MAX_LINE_POINTS) return points;
  const stride = Math.ceil(points.length / MAX_LINE_POINTS);
  const kept = points.filter((_, index) => index % stride === 0);
  if (kept.at(-1) !== points.at(-1)) kept.push(points.at(-1)!);
  return kept;
}

/* ------------------------------------------------------------------ charts */

/** Lines over a numeric x axis, one per series, with optional vertical markers (iteration boundaries). */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const baseHeight = spec.height ?? 300;
  const series = spec.series.map((item) => ({
    ...item,
    points: thin(item.points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y))),
  }));
  const key = legend(
    series.map((item, index) => ({
      name: item.name,
      color: item.color ?? colorOf(index),
      kind: 'line' as const,
      dash: item.dash ?? null,
    })),
    width,
    38,
  );
  const height = baseHeight + key.height;
  const frame: Frame = { width, height, left: 62, right: 18, top: 30 + key.height + 8, bottom: 40 };
  const points = series.flatMap((item) => item.points);
  const markers = (spec.markers ?? []).filter((marker) => Number.isFinite(marker.x));
  const [xMin, xMax] = extent([...points.map((point) => point.x), ...markers.map((marker) => marker.x)]);
  const [yMin, yMax] = extent(points.map((point) => point.y));
  const x = linearScale(niceTicks(xMin, xMax, 6), frame.left, width - frame.right);
  const y = linearScale(niceTicks(yMin, yMax, 5), height - frame.bottom, frame.top);
  const clipping = clip(spec.id, frame);
  const parts = [open(spec, width, height), clipping.defs, key.svg, axes(frame, x, y, spec.xLabel, spec.yLabel)];
  if (points.length === 0) parts.push(empty(frame));
  const labels = markers.map((marker) => truncate(marker.label, 16));
  const labelRows = markerLabelRows(markers.map((marker, index) => ({ x: x(marker.x), label: labels[index]! })));
  markers.forEach((marker, index) => {
    const position = round(x(marker.x));
    const label = labels[index]!;
    parts.push(
      `<line x1="${position}" y1="${frame.top}" x2="${position}" y2="${height - frame.bottom}" stroke="#999999" stroke-dasharray="3 3"/>`,
      `<text x="${Number(position) + 3}" y="${frame.top + 10 + 11 * (labelRows[index] ?? 0)}" font-size="9" fill="#666666">${escapeMarkup(label)}</text>`,
    );
  });
  const lines: string[] = [];
  series.forEach((item, index) => {
    if (item.points.length === 0) return;
    const color = item.color ?? colorOf(index);
    const dash = item.dash;
    const path = item.points
      .map((point, position) => `${position === 0 ? 'M' : 'L'}${round(x(point.x))} ${round(y(point.y))}`)
      .join('');
    lines.push(
      `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.8"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
    if (item.points.length <= 40) {
      for (const point of item.points) {
        lines.push(`<circle cx="${round(x(point.x))}" cy="${round(y(point.y))}" r="2.6" fill="${color}"/>`);
      }
    }
  });
  parts.push(`<g ${clipping.attribute}>${lines.join('')}</g>`, '</svg>');
  return parts.join('');
}

/** Grouped vertical bars (categories × series) with optional error bars and a reference line. */
export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 640;
  const baseHeight = spec.height ?? 300;
  const showLegend = spec.series.length > 1;
  const key = legend(
    showLegend ? spec.series.map((item, index) => ({ name: item.name, color: colorOf(index), kind: 'box' })) : [],
    width,
    38,
  );
  const longest = Math.max(0, ...spec.categories.map((category) => Math.min(category.length, 24)));
  const plotWidth = width - 62 - 18;
  const slot = plotWidth / Math.max(1, spec.categories.length);
  const rotate = longest * CHAR_WIDTH > slot - 4;
  const labelSpace = rotate ? Math.min(140, longest * CHAR_WIDTH * 0.72 + 16) : 24;
  const height = baseHeight + key.height + (rotate ? labelSpace - 24 : 0);
  const frame: Frame = { width, height, left: 62, right: 18, top: 30 + key.height + 8, bottom: labelSpace };
  const values: number[] = [0];
  for (const item of spec.series) {
    for (const value of item.values) if (value !== null) values.push(value);
    for (const interval of item.intervals ?? []) if (interval) values.push(interval[0], interval[1]);
  }
  if (spec.reference) values.push(spec.reference.y);
  const [low, high] = extent(values);
  const y = linearScale(niceTicks(low, high, 5), height - frame.bottom, frame.top);
  const parts = [open(spec, width, height), key.svg, axes(frame, null, y, '', spec.yLabel)];
  const hasValue = spec.series.some((item) => item.values.some((value) => value !== null && Number.isFinite(value)));
  if (!hasValue) parts.push(empty(frame));
  const seriesCount = Math.max(1, spec.series.length);
  const barWidth = Math.max(2, Math.min(48, (slot * 0.8) / seriesCount));
  const zero = y(Math.min(Math.max(0, y.ticks[0] ?? 0), y.ticks.at(-1) ?? 0));
  spec.categories.forEach((category, categoryIndex) => {
    const center = frame.left + slot * (categoryIndex + 0.5);
    spec.series.forEach((item, seriesIndex) => {
      const value = item.values[categoryIndex];
      const left = center - (barWidth * seriesCount) / 2 + barWidth * seriesIndex;
      if (value !== null && value !== undefined && Number.isFinite(value)) {
        const top = Math.min(y(value), zero);
        const barHeight = Math.max(0.5, Math.abs(y(value) - zero));
        parts.push(
          `<rect x="${round(left + 1)}" y="${round(top)}" width="${round(barWidth - 2)}" height="${round(barHeight)}" fill="${colorOf(seriesIndex)}" fill-opacity="0.8"><title>${escapeMarkup(`${item.name} · ${category}: ${formatNumber(value)}`)}</title></rect>`,
        );
      }
      const interval = item.intervals?.[categoryIndex];
      if (interval && Number.isFinite(interval[0]) && Number.isFinite(interval[1])) {
        const middle = round(left + barWidth / 2);
        const cap = Math.min(6, barWidth / 3);
        const [lowY, highY] = [round(y(interval[0])), round(y(interval[1]))];
        parts.push(
          `<path d="M${middle} ${lowY}V${highY}M${round(left + barWidth / 2 - cap)} ${lowY}h${round(cap * 2)}M${round(left + barWidth / 2 - cap)} ${highY}h${round(cap * 2)}" stroke="${TEXT}" stroke-width="1.2" fill="none"/>`,
        );
      }
    });
    const label = escapeMarkup(truncate(category, 24));
    const labelY = height - frame.bottom + 14;
    parts.push(
      rotate
        ? `<text transform="translate(${round(center + 3)} ${labelY - 6}) rotate(-35)" font-size="10" fill="${TEXT}" text-anchor="end">${label}<title>${escapeMarkup(category)}</title></text>`
        : `<text x="${round(center)}" y="${labelY}" font-size="10" fill="${TEXT}" text-anchor="middle">${label}<title>${escapeMarkup(category)}</title></text>`,
    );
  });
  if (spec.reference && Number.isFinite(spec.reference.y)) {
    const position = round(y(spec.reference.y));
    parts.push(
      `<line x1="${frame.left}" y1="${position}" x2="${width - frame.right}" y2="${position}" stroke="#D55E00" stroke-dasharray="4 3"/>`,
      `<text x="${width - frame.right - 4}" y="${Number(position) - 4}" font-size="9" fill="#D55E00" text-anchor="end">${escapeMarkup(spec.reference.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Counts per bin over a numeric axis; several series share each bin side by side. */
export function histogram(spec: HistogramSpec): string {
  const width = spec.width ?? 640;
  const baseHeight = spec.height ?? 260;
  const fills = spec.series.map((_, index) => boxFill(spec.id, index));
  const key = legend(
    spec.series.length > 1
      ? spec.series.map((item, index) => ({ name: item.name, color: fills[index]!.fill, kind: 'box' as const }))
      : [],
    width,
    38,
  );
  const height = baseHeight + key.height;
  const frame: Frame = { width, height, left: 62, right: 18, top: 30 + key.height + 8, bottom: 40 };
  const bins = spec.series.flatMap((item) =>
    item.bins.filter((bin) => Number.isFinite(bin.lower) && Number.isFinite(bin.upper) && Number.isFinite(bin.count)),
  );
  const [xMin, xMax] = extent(bins.flatMap((bin) => [bin.lower, bin.upper]));
  const [, countMax] = extent([0, ...bins.map((bin) => bin.count)]);
  const x = linearScale(niceTicks(xMin, xMax, 6), frame.left, width - frame.right);
  const y = linearScale(niceTicks(0, countMax, 4), height - frame.bottom, frame.top);
  const patterns = fills.map((fill) => fill.defs).join('');
  const parts = [
    open(spec, width, height),
    patterns ? `<defs>${patterns}</defs>` : '',
    key.svg,
    axes(frame, x, y, spec.xLabel, spec.yLabel),
  ];
  if (bins.length === 0) parts.push(empty(frame));
  // Several series share each bin side by side (overlapping fills hide each other).
  const seriesCount = Math.max(1, spec.series.length);
  spec.series.forEach((item, index) => {
    for (const bin of item.bins) {
      if (!Number.isFinite(bin.lower) || !Number.isFinite(bin.upper) || !Number.isFinite(bin.count)) continue;
      const slot = (x(bin.upper) - x(bin.lower)) / seriesCount;
      const left = x(bin.lower) + slot * index;
      const top = y(bin.count);
      parts.push(
        `<rect x="${round(left)}" y="${round(top)}" width="${round(Math.max(0.5, slot - (index === seriesCount - 1 ? 1 : 0)))}" height="${round(Math.max(0, y(0) - top))}" fill="${fills[index]!.fill}" fill-opacity="0.8"><title>${escapeMarkup(`${item.name} [${formatNumber(bin.lower)}, ${formatNumber(bin.upper)}): ${bin.count}`)}</title></rect>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Points coloured by group over optional density cells and shaded regions (a 2-D map). */
export function scatterChart(spec: ScatterSpec): string {
  const width = spec.width ?? 640;
  const baseHeight = spec.height ?? 420;
  const groups = [...new Set(spec.points.map((point) => point.group))];
  const regions = (spec.regions ?? []).filter((region) =>
    [region.x0, region.x1, region.y0, region.y1].every(Number.isFinite),
  );
  const entries = groups.map((group, index) => ({ name: group, color: colorOf(index), kind: 'box' as const }));
  if (regions.length > 0) entries.push({ name: spec.regionLabel ?? 'region', color: REGION_FILL, kind: 'box' });
  const key = legend(entries, width, 38);
  const height = baseHeight + key.height;
  const frame: Frame = { width, height, left: 62, right: 18, top: 30 + key.height + 8, bottom: 40 };
  const points = spec.points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
  const density = (spec.density ?? []).filter((cell) =>
    [cell.x0, cell.x1, cell.y0, cell.y1, cell.value].every(Number.isFinite),
  );
  const xs = [...points.map((point) => point.x), ...regions.flatMap((r) => [r.x0, r.x1])];
  const ys = [...points.map((point) => point.y), ...regions.flatMap((r) => [r.y0, r.y1])];
  for (const cell of density) {
    xs.push(cell.x0, cell.x1);
    ys.push(cell.y0, cell.y1);
  }
  const [xMin, xMax] = extent(xs);
  const [yMin, yMax] = extent(ys);
  const x = linearScale(niceTicks(xMin, xMax, 6), frame.left, width - frame.right);
  const y = linearScale(niceTicks(yMin, yMax, 5), height - frame.bottom, frame.top);
  const clipping = clip(spec.id, frame);
  const parts = [open(spec, width, height), clipping.defs, key.svg, axes(frame, x, y, spec.xLabel, spec.yLabel)];
  if (points.length === 0) parts.push(empty(frame));
  const layer: string[] = [];
  const rectangle = (cell: Rectangle, attributes: string) => {
    const left = Math.min(x(cell.x0), x(cell.x1));
    const top = Math.min(y(cell.y0), y(cell.y1));
    return `<rect x="${round(left)}" y="${round(top)}" width="${round(Math.abs(x(cell.x1) - x(cell.x0)))}" height="${round(Math.abs(y(cell.y1) - y(cell.y0)))}" ${attributes}/>`;
  };
  for (const cell of density) {
    const value = Math.min(1, Math.max(0, cell.value));
    if (value > 0) layer.push(rectangle(cell, `fill="#000000" fill-opacity="${Math.round(value * 25) / 100}"`));
  }
  for (const region of regions) layer.push(rectangle(region, `fill="${REGION_FILL}" fill-opacity="0.45"`));
  for (const point of points) {
    const color = colorOf(groups.indexOf(point.group));
    layer.push(
      `<circle cx="${round(x(point.x))}" cy="${round(y(point.y))}" r="2.8" fill="${color}" fill-opacity="0.75"/>`,
    );
  }
  parts.push(`<g ${clipping.attribute}>${layer.join('')}</g>`, '</svg>');
  return parts.join('');
}

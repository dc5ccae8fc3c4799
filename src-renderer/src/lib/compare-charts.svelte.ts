/**
 * The Compare view's chart.js charts as Svelte attachments, each rebuilt in place when its data
 * changes and destroyed on unmount: reward histograms per checkpoint, mean reward against a
 * diversity metric, the 2-D map of §5.3 with its high-reward region painted as cells behind the
 * points, and win rates with their intervals drawn as whiskers (chartjs-plugin-annotation and
 * error-bar plugins are not dependencies; two small plugins below draw what is needed).
 *
 * Clicking a mark calls `onpick` with what it stands for. Every chart also writes where its marks
 * are to the canvas's `data-marks` (JSON of {dataset, index, x, y} in canvas pixels), so
 * automation and tests can click a mark without knowing the chart's layout.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type Plugin,
} from 'chart.js';
import type { Attachment } from 'svelte/attachments';

Chart.register(BarController, BarElement, ScatterController, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

/** Mid-tone colours readable on the light and the dark theme, one per checkpoint or method. */
export const PALETTE = ['#4a6fe3', '#d9534f', '#2e9e63', '#c98a12', '#8e5cc9', '#1e9bb0', '#c2528b', '#6b7b8c'];

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** `#rrggbb` at `alpha`. */
export function translucent(hex: string, alpha: number): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

/** Which mark was clicked: the dataset and the index within it. */
export interface ChartPick {
  dataset: number;
  index: number;
}

/** Reads the theme's text and grid colours from the page (they follow light/dark). */
function themeColors(host: Element): { text: string; grid: string } {
  const probe = (variable: string, fallback: string) => {
    const span = document.createElement('span');
    span.style.color = `var(${variable})`;
    span.style.display = 'none';
    host.append(span);
    const color = getComputedStyle(span).color;
    span.remove();
    return color || fallback;
  };
  return { text: probe('--text-muted', '#666'), grid: probe('--border', '#ddd') };
}

/** The centre of a bar or point (every chart.js element draws one; the base type does not declare it). */
function centerOf(element: object): { x: number; y: number } {
  return (element as { getCenterPoint(): { x: number; y: number } }).getCenterPoint();
}

/** Writes each mark's centre to the canvas's data-marks after every draw. */
const marksPlugin: Plugin = {
  id: 'compareMarks',
  afterDraw(chart) {
    const marks: { dataset: number; index: number; x: number; y: number }[] = [];
    chart.data.datasets.forEach((_, dataset) => {
      const meta = chart.getDatasetMeta(dataset);
      if (meta.hidden) return;
      meta.data.forEach((element, index) => {
        const { x, y } = centerOf(element);
        if (Number.isFinite(x) && Number.isFinite(y))
          marks.push({ dataset, index, x: Math.round(x), y: Math.round(y) });
      });
    });
    chart.canvas.dataset.marks = JSON.stringify(marks.slice(0, 2000));
  },
};

/**
 * A chart on the canvas built by `configure` from the current data; rebuilt whenever what
 * `configure` reads changes (evaluations are static, so rebuilding is cheap and simple).
 */
function chartAttachment<T extends ChartType>(
  configure: (colors: { text: string; grid: string }) => ChartConfiguration<T>,
  onpick: (pick: ChartPick) => void,
): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    let chart: Chart<T> | null = null;
    $effect(() => {
      const config = configure(themeColors(canvas.parentElement ?? canvas));
      chart?.destroy();
      chart = new Chart<T>(canvas, {
        ...config,
        options: {
          ...config.options,
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          onClick: (event, elements) => {
            const hit =
              elements[0] ??
              chart?.getElementsAtEventForMode(event as unknown as Event, 'nearest', { intersect: false }, false)[0];
            if (hit) onpick({ dataset: hit.datasetIndex, index: hit.index });
          },
          onHover: (event, elements) => {
            const target = event.native?.target;
            if (target instanceof HTMLElement) target.style.cursor = elements.length > 0 ? 'pointer' : 'default';
          },
        },
        plugins: [...(config.plugins ?? []), marksPlugin as Plugin<T>],
      } as ChartConfiguration<T>);
    });
    return () => {
      chart?.destroy();
      chart = null;
    };
  };
}

function axes(colors: { text: string; grid: string }, x: string, y: string, extra: Record<string, unknown> = {}) {
  return {
    x: {
      title: { display: true, text: x, color: colors.text },
      ticks: { color: colors.text },
      grid: { color: colors.grid },
    },
    y: {
      title: { display: true, text: y, color: colors.text },
      ticks: { color: colors.text },
      grid: { color: colors.grid },
      ...extra,
    },
  };
}

function legend(colors: { text: string; grid: string }) {
  return { labels: { color: colors.text, boxWidth: 12, boxHeight: 12 } };
}

export interface HistogramData {
  /** Bin edges, shared by every checkpoint. */
  edges: readonly number[];
  series: readonly { label: string; color: string; counts: readonly number[] }[];
}

/** Grouped bars: each checkpoint's count of responses per reward bin. A pick is (checkpoint, bin). */
export function rewardHistogramChart(data: () => HistogramData, onpick: (pick: ChartPick) => void) {
  return chartAttachment<'bar'>((colors) => {
    const { edges, series } = data();
    const labels = edges.slice(0, -1).map((edge, index) => ((edge + edges[index + 1]!) / 2).toPrecision(3));
    return {
      type: 'bar',
      data: {
        labels,
        datasets: series.map((one) => ({ label: one.label, data: [...one.counts], backgroundColor: one.color })),
      },
      options: {
        scales: axes(colors, 'reward (bin centre)', 'responses', { beginAtZero: true }),
        plugins: { legend: legend(colors) },
      },
    };
  }, onpick);
}

export interface ScatterSeries {
  label: string;
  color: string;
  points: readonly { x: number; y: number }[];
  /** Point radius. */
  radius?: number;
}

/** One point per checkpoint: its mean reward against a diversity metric. */
export function rewardDiversityChart(
  data: () => { series: readonly ScatterSeries[]; xTitle: string },
  onpick: (pick: ChartPick) => void,
) {
  return chartAttachment<'scatter'>((colors) => {
    const { series, xTitle } = data();
    return {
      type: 'scatter',
      data: {
        datasets: series.map((one) => ({
          label: one.label,
          data: one.points.map((point) => ({ ...point })),
          backgroundColor: one.color,
          borderColor: one.color,
          pointRadius: one.radius ?? 7,
          pointHoverRadius: (one.radius ?? 7) + 2,
        })),
      },
      options: { scales: axes(colors, xTitle, 'mean reward'), plugins: { legend: legend(colors) } },
    };
  }, onpick);
}

export interface MapData {
  bounds: { xMin: number; xMax: number; yMin: number; yMax: number };
  gridSize: number;
  /** Indices of the high-reward region's cells (row-major, row 0 at yMin). */
  region: readonly number[];
  regionColor: string;
  series: readonly ScatterSeries[];
}

/** Paints the region's cells behind the points. */
function regionPlugin(map: MapData): Plugin<'scatter'> {
  return {
    id: 'compareRegion',
    beforeDatasetsDraw(chart) {
      const { ctx, scales, chartArea } = chart;
      const x = scales.x;
      const y = scales.y;
      if (!x || !y) return;
      const { xMin, xMax, yMin, yMax } = map.bounds;
      const width = (xMax - xMin) / map.gridSize;
      const height = (yMax - yMin) / map.gridSize;
      ctx.save();
      ctx.beginPath();
      ctx.rect(chartArea.left, chartArea.top, chartArea.width, chartArea.height);
      ctx.clip();
      ctx.fillStyle = map.regionColor;
      // One path of every cell, filled once: overlapping edges of translucent cells would show as lines.
      ctx.beginPath();
      for (const cell of map.region) {
        const column = cell % map.gridSize;
        const row = Math.floor(cell / map.gridSize);
        const left = x.getPixelForValue(xMin + column * width);
        const right = x.getPixelForValue(xMin + (column + 1) * width);
        const bottom = y.getPixelForValue(yMin + row * height);
        const top = y.getPixelForValue(yMin + (row + 1) * height);
        ctx.rect(left, top, right - left + 0.5, bottom - top + 0.5);
      }
      ctx.fill();
      ctx.restore();
    },
  };
}

/** Every response projected to 2-D, one colour per method, over the shaded high-reward region. */
export function rewardMapChart(data: () => MapData, onpick: (pick: ChartPick) => void) {
  return chartAttachment<'scatter'>((colors) => {
    const map = data();
    return {
      type: 'scatter',
      data: {
        datasets: map.series.map((one) => ({
          label: one.label,
          data: one.points.map((point) => ({ ...point })),
          backgroundColor: translucent(one.color, 0.75),
          borderColor: one.color,
          pointRadius: one.radius ?? 4,
          pointHoverRadius: (one.radius ?? 4) + 2,
        })),
      },
      options: {
        scales: {
          ...axes(colors, 'map x', 'map y'),
          x: { ...axes(colors, 'map x', '').x, min: map.bounds.xMin, max: map.bounds.xMax },
          y: { ...axes(colors, '', 'map y').y, min: map.bounds.yMin, max: map.bounds.yMax },
        },
        plugins: { legend: legend(colors) },
      },
      plugins: [regionPlugin(map)],
    };
  }, onpick);
}

export interface WinRateData {
  labels: readonly string[];
  series: readonly {
    label: string;
    color: string;
    values: readonly number[];
    intervals: readonly { low: number; high: number }[];
  }[];
}

/** Draws each bar's confidence interval as a whisker, and a dashed line at 0.5 (a tie). */
function whiskerPlugin(data: WinRateData, colors: { text: string }): Plugin<'bar'> {
  return {
    id: 'compareWhiskers',
    afterDatasetsDraw(chart) {
      const { ctx, scales, chartArea } = chart;
      const y = scales.y;
      if (!y) return;
      ctx.save();
      ctx.strokeStyle = colors.text;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(chartArea.left, y.getPixelForValue(0.5));
      ctx.lineTo(chartArea.right, y.getPixelForValue(0.5));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.lineWidth = 1.5;
      data.series.forEach((series, dataset) => {
        chart.getDatasetMeta(dataset).data.forEach((bar, index) => {
          const interval = series.intervals[index];
          if (!interval || !Number.isFinite(interval.low) || !Number.isFinite(interval.high)) return;
          const { x } = centerOf(bar);
          const low = y.getPixelForValue(interval.low);
          const high = y.getPixelForValue(interval.high);
          ctx.beginPath();
          ctx.moveTo(x, low);
          ctx.lineTo(x, high);
          ctx.moveTo(x - 5, low);
          ctx.lineTo(x + 5, low);
          ctx.moveTo(x - 5, high);
          ctx.lineTo(x + 5, high);
          ctx.stroke();
        });
      });
      ctx.restore();
    },
  };
}

/** Win rates (and their length-controlled variant) against one opponent, with interval whiskers. */
export function winRateChart(data: () => WinRateData, onpick: (pick: ChartPick) => void) {
  return chartAttachment<'bar'>((colors) => {
    const win = data();
    return {
      type: 'bar',
      data: {
        labels: [...win.labels],
        datasets: win.series.map((one) => ({ label: one.label, data: [...one.values], backgroundColor: one.color })),
      },
      options: {
        scales: axes(colors, 'checkpoint', 'win rate', { min: 0, max: 1 }),
        plugins: { legend: legend(colors) },
      },
      plugins: [whiskerPlugin(win, colors)],
    };
  }, onpick);
}

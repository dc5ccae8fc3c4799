/**
 * chart.js charts as Svelte attachments (`{@attach lineChart(() => data)}`): the chart is created
 * when its canvas mounts, follows the data in place (new points appended, nothing re-created),
 * repaints its colours when the theme changes, and is destroyed on unmount. Only the controllers,
 * elements and plugins used here are registered, so Vite bundles nothing else of chart.js.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';
import { seriesUpdate, type ChartMarker, type ChartPoint, type LineSeries } from './series.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, CategoryScale);
Chart.register(Tooltip, Legend);

/** Appends above this many points replace the array in one go instead of pushing point by point. */
const PUSH_LIMIT = 512;

/**
 * A colour as the canvas can paint it. The theme's variables use light-dark(), which only an
 * element's computed `color` resolves (to rgb()), so a hidden probe inside `host` reads it.
 */
function resolveColor(host: Element, color: string): string {
  if (!color.startsWith('--')) return color;
  const probe = document.createElement('span');
  probe.style.color = `var(${color})`;
  probe.style.display = 'none';
  host.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved || '#3358d4';
}

/** rgb(a, b, c) → rgba(a, b, c, alpha), for fills under a line. */
function withAlpha(rgb: string, alpha: number): string {
  const match = /^rgba?\(([^)]+)\)$/.exec(rgb);
  if (!match) return rgb;
  const [red, green, blue] = match[1]!.split(/[\s,]+/);
  return `rgba(${red}, ${green}, ${blue}, ${alpha})`;
}

/** Calls `changed` when the theme setting (data-theme on <html>) or the OS scheme changes. */
function onThemeChange(changed: () => void): () => void {
  const media = window.matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', changed);
  const observer = new MutationObserver(changed);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => {
    media.removeEventListener('change', changed);
    observer.disconnect();
  };
}

interface AxisColors {
  text: string;
  grid: string;
}

function axisColors(host: Element): AxisColors {
  return { text: resolveColor(host, '--text-muted'), grid: resolveColor(host, '--border') };
}

/** Colours every axis's ticks, grid and title in the theme's colours. */
function paintScales(chart: Chart<'line', ChartPoint[]> | Chart<'bar', number[], string>, colors: AxisColors): void {
  for (const scale of Object.values(chart.options.scales ?? {})) {
    if (!scale) continue;
    scale.ticks = { ...scale.ticks, color: colors.text };
    scale.grid = { ...scale.grid, color: colors.grid };
    if ('title' in scale && scale.title) scale.title.color = colors.text;
  }
}

/** Dashed vertical lines with a label at each marker (chartjs-plugin-annotation is not a dependency). */
function markerPlugin(state: { markers: readonly ChartMarker[]; colors: AxisColors }): Plugin<'line'> {
  return {
    id: 'workbenchMarkers',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const x = scales.x;
      if (!x || state.markers.length === 0) return;
      ctx.save();
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.strokeStyle = state.colors.text;
      ctx.fillStyle = state.colors.text;
      ctx.font = '11px system-ui, sans-serif';
      for (const marker of state.markers) {
        const pixel = x.getPixelForValue(marker.x);
        if (pixel < chartArea.left - 0.5 || pixel > chartArea.right + 0.5) continue;
        ctx.beginPath();
        ctx.moveTo(pixel, chartArea.top);
        ctx.lineTo(pixel, chartArea.bottom);
        ctx.stroke();
        ctx.fillText(marker.label, pixel + 3, chartArea.top + 11);
      }
      ctx.restore();
    },
  };
}

/** Axis labels: tiny values (learning rates) in exponent form, others with 3 significant digits. */
function tickLabel(value: number | string): string {
  const number = Number(value);
  if (number !== 0 && Math.abs(number) < 1e-3) return number.toExponential(1);
  return Number(number.toPrecision(3)).toString();
}

export interface LineChartData {
  series: readonly LineSeries[];
  markers?: readonly ChartMarker[];
  xTitle?: string;
  /** Title of the right-hand axis; it shows only when a series uses it. */
  rightAxis?: string;
}

type LineDataset = ChartDataset<'line', ChartPoint[]>;

/** A line chart over a linear x axis; series keep their identity by id, so new points are appended. */
export function lineChart(data: () => LineChartData): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const host = canvas.parentElement ?? canvas;
    const initial = untrack(data);
    const state = { markers: [] as readonly ChartMarker[], colors: axisColors(host) };
    /** The series shown, in dataset order, with their palette colour names. */
    let shown: { id: string; color: string; line: boolean }[] = [];

    const chart = new Chart<'line', ChartPoint[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: initial.xTitle ?? 'step' }, ticks: { precision: 0 } },
          y: { type: 'linear', ticks: { callback: tickLabel } },
          y1: {
            type: 'linear',
            position: 'right',
            display: 'auto',
            ticks: { callback: tickLabel },
            title: { display: initial.rightAxis !== undefined, text: initial.rightAxis ?? '' },
            grid: { drawOnChartArea: false },
          },
        },
        plugins: { legend: { labels: { boxWidth: 12, boxHeight: 12 } } },
      },
      plugins: [markerPlugin(state)],
    });

    /**
     * The dataset in `color`. A new object, not a mutation: chart.js caches the resolved options
     * of points and bars per dataset object, so a changed colour on the same object would not show.
     * The data array is kept, so the points are not copied.
     */
    function painted(dataset: LineDataset, color: string, line: boolean): LineDataset {
      const resolved = resolveColor(host, color);
      return {
        ...dataset,
        borderColor: resolved,
        backgroundColor: line ? withAlpha(resolved, 0.15) : resolved,
        pointBackgroundColor: resolved,
        pointBorderColor: resolved,
      };
    }

    function datasetOf(series: LineSeries): LineDataset {
      const line = series.line ?? true;
      return painted(
        {
          label: series.label,
          data: series.points.slice(),
          yAxisID: series.axis ?? 'y',
          showLine: line,
          borderWidth: line ? 1.5 : 0,
          pointRadius: line ? 0 : 4,
          pointHoverRadius: 4,
          pointStyle: line ? 'circle' : 'rectRot',
        },
        series.color,
        line,
      );
    }

    function paintAxes(): void {
      paintScales(chart, state.colors);
      const legend = chart.options.plugins?.legend;
      if (legend) legend.labels = { ...legend.labels, color: state.colors.text };
    }

    function follow(series: readonly LineSeries[]): void {
      const sameSeries = series.length === shown.length && series.every((one, index) => one.id === shown[index]!.id);
      if (!sameSeries) {
        chart.data.datasets = series.map(datasetOf);
        shown = series.map((one) => ({ id: one.id, color: one.color, line: one.line ?? true }));
        return;
      }
      series.forEach((one, index) => {
        const dataset = chart.data.datasets[index]!;
        const update = seriesUpdate(dataset.data, one.points);
        if (update.kind === 'replace' || update.points.length > PUSH_LIMIT) {
          dataset.data = update.kind === 'replace' ? update.points : dataset.data.concat(update.points);
        } else {
          for (const point of update.points) dataset.data.push(point);
        }
        dataset.label = one.label;
      });
    }

    paintAxes();
    // Runs again whenever what `data()` reads changes: the same chart gets the new points.
    $effect(() => {
      const next = data();
      follow(next.series);
      state.markers = next.markers?.slice() ?? [];
      chart.update('none');
    });
    const stopTheme = onThemeChange(() => {
      state.colors = axisColors(host);
      paintAxes();
      chart.data.datasets = chart.data.datasets.map((dataset, index) =>
        painted(dataset, shown[index]!.color, shown[index]!.line),
      );
      chart.update('none');
    });
    return () => {
      stopTheme();
      chart.destroy();
    };
  };
}

export interface BarChartData {
  labels: readonly string[];
  values: readonly number[];
  label: string;
  color: string;
  xTitle?: string;
}

/** A one-series bar chart (a histogram); its bars are redrawn in place when the data changes. */
export function barChart(data: () => BarChartData): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const host = canvas.parentElement ?? canvas;
    const initial = untrack(data);
    const chart = new Chart<'bar', number[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: initial.xTitle !== undefined, text: initial.xTitle ?? '' } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });

    let current = initial;

    /** A new dataset object each time (chart.js caches bar options per dataset object). */
    function render(): void {
      chart.data.labels = current.labels.slice();
      chart.data.datasets = [
        { label: current.label, data: current.values.slice(), backgroundColor: resolveColor(host, current.color) },
      ];
      chart.update('none');
    }

    paintScales(chart, axisColors(host));
    $effect(() => {
      current = data();
      render();
    });
    const stopTheme = onThemeChange(() => {
      paintScales(chart, axisColors(host));
      render();
    });
    return () => {
      stopTheme();
      chart.destroy();
    };
  };
}

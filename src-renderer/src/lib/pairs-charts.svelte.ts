/**
 * chart.js charts as Svelte attachments: `{@attach barChart(() => data)}` creates the chart when
 * the canvas mounts, updates it in place when the data changes, and destroys it on unmount.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { untrack } from 'svelte';
import type { Attachment } from 'svelte/attachments';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarSeries {
  label: string;
  values: number[];
  /** A CSS variable name (`--accent`) or a colour. */
  color: string;
}

export interface BarData {
  labels: string[];
  series: BarSeries[];
  /** Horizontal bars (long category names). */
  horizontal?: boolean;
  /** Series stacked on one bar (the confusion matrix). */
  stacked?: boolean;
}

/**
 * A CSS variable's colour as the canvas can paint it: the theme's variables use light-dark(),
 * which only an element's computed `color` resolves (to rgb()).
 */
function colorOf(element: Element, color: string): string {
  if (!color.startsWith('--')) return color;
  const probe = document.createElement('span');
  probe.style.color = `var(${color})`;
  probe.style.display = 'none';
  element.parentElement?.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved || '#3358d4';
}

/** A bar chart: one series (distribution, histogram) or stacked series (confusion matrix). */
export function barChart(data: () => BarData): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const initial = untrack(data);
    const muted = colorOf(canvas, '--text-muted');
    const grid = colorOf(canvas, '--border');
    const chart = new Chart<'bar', number[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: initial.horizontal ? 'y' : 'x',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: initial.series.length > 1, labels: { color: muted } } },
        scales: {
          x: { stacked: initial.stacked, ticks: { color: muted, precision: 0 }, grid: { color: grid } },
          y: { stacked: initial.stacked, ticks: { color: muted, precision: 0 }, grid: { color: grid } },
        },
      },
    });
    // Runs again whenever the data read inside `data()` changes, and updates the same chart.
    $effect(() => {
      const { labels, series } = data();
      chart.data.labels = labels;
      chart.data.datasets = series.map((one) => ({
        label: one.label,
        data: one.values,
        backgroundColor: colorOf(canvas, one.color),
      }));
      chart.update();
    });
    return () => chart.destroy();
  };
}

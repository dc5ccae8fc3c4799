/** Inline SVG icons (24×24 grid, drawn with strokes): path data by name. No icon font, no network. */
import type { IconName } from './views.js';

const circle = (cx: number, cy: number, r: number): string =>
  `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;

export const ICON_PATHS: Record<IconName, string[]> = {
  home: ['M3 10.5 12 3l9 7.5', 'M5 9v11h14V9', 'M10 20v-6h4v6'],
  import: ['M12 3v12', 'm7 10 5 5 5-5', 'M4 15v4a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-4'],
  conversations: ['M21 11.5a8.5 8.5 0 0 1-12.4 7.6L3 21l1.9-5.6A8.5 8.5 0 1 1 21 11.5Z', 'M8 10h8', 'M8 13.5h5'],
  pairs: ['M7 20V4', 'm3 8 4-4 4 4', 'M17 4v16', 'm13 16 4 4 4-4'],
  models: [
    'M6 4h12a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2Z',
    'M9 9h6v6H9z',
    'M9 1v3M15 1v3M9 20v3M15 20v3M1 9h3M1 15h3M20 9h3M20 15h3',
  ],
  runs: ['M22 12h-4l-3 9L9 3l-3 9H2'],
  compare: [
    'M5 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2Z',
    'M12 3v18',
    'M7 15l2-3 1 1',
    'M14 10l2 3 2-4',
  ],
  reports: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8Z', 'M14 2v6h6', 'M8 13h8', 'M8 17h5'],
  settings: ['M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1', circle(15, 6, 2), circle(9, 12, 2), circle(17, 18, 2)],
  jobs: ['M9 6h12', 'M9 12h12', 'M9 18h12', 'm3 6 1 1 2-2', 'm3 12 1 1 2-2', circle(4.5, 18, 1.5)],
  alert: ['M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z', 'M12 9v4', 'M12 17h.01'],
  check: ['M20 6 9 17l-5-5'],
  close: ['M18 6 6 18', 'm6 6 12 12'],
  play: ['M7 4.5v15l12-7.5Z'],
  stop: ['M7 7h10v10H7z'],
  folder: ['M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2Z'],
  info: [circle(12, 12, 10), 'M12 16v-4', 'M12 8h.01'],
};

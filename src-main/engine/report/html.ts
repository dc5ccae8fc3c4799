/**
 * report.html: one self-contained file. Charts are inline SVG, the style sheet is inline, there
 * is no script, and a Content-Security-Policy meta tag forbids every request (no fonts, images,
 * frames or connections), so opening a report can never reach the network or run code. Every
 * text goes through {@link escapeMarkup}.
 */
import { escapeMarkup } from './escape.js';
import type { Block, ReportDocument } from './document.js';

/** The policy of every report page: nothing but inline styles and data: images. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; background: #ffffff; }
header { padding: 28px 40px 12px; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
h1 { margin: 0 0 4px; font-size: 24px; }
.subtitle { margin: 0 0 10px; color: #57606a; }
nav ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: #0969da; text-decoration: none; }
main { padding: 8px 40px 40px; max-width: 1100px; }
section { margin-top: 26px; }
h2 { font-size: 20px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; break-after: avoid; }
h3 { font-size: 16px; margin: 20px 0 8px; break-after: avoid; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; break-inside: avoid; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left; overflow-wrap: break-word; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 14px; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; overflow-wrap: break-word; }
figure { margin: 12px 0 18px; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: 12px; margin-top: 4px; }
.example { border: 1px solid #d0d7de; border-radius: 6px; margin: 10px 0 16px; break-inside: avoid; }
.example h4 { margin: 0; padding: 6px 10px; font-size: 13px; background: #f6f8fa; border-bottom: 1px solid #d0d7de; overflow-wrap: break-word; }
.turn, .side { padding: 6px 10px; }
.turn { border-bottom: 1px dashed #d0d7de; }
.label { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: #57606a; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin-top: 2px; }
.sides { display: grid; grid-template-columns: 1fr 1fr; }
.side.left { border-right: 1px solid #d0d7de; background: #fff8f6; }
.side.right { background: #f6fff8; }
.note { color: #57606a; font-size: 12px; padding: 4px 10px; }
.warning { border-left: 4px solid #d4a72c; background: #fff8c5; padding: 6px 10px; }
@page { size: A4; }
@media print { header { background: none; } main, header { padding-left: 0; padding-right: 0; } nav { display: none; } }
`;

/** The whole report.html document. */
export function renderHtml(document: ReportDocument): string {
  const toc = document.sections
    .map((section) => `<li><a href="#${escapeMarkup(section.id)}">${escapeMarkup(section.title)}</a></li>`)
    .join('');
  const sections = document.sections
    .map(
      (section) =>
        `<section id="${escapeMarkup(section.id)}"><h2>${escapeMarkup(section.title)}</h2>\n${section.blocks.map(renderBlock).join('\n')}\n</section>`,
    )
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeMarkup(document.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeMarkup(document.title)}</h1><p class="subtitle">${escapeMarkup(document.subtitle)}</p><nav><ol>${toc}</ol></nav></header>`,
    `<main>\n${sections}\n</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case 'subheading':
      return `<h3>${escapeMarkup(block.text)}</h3>`;
    case 'paragraph':
      return `<p>${escapeMarkup(block.text)}</p>`;
    case 'warning':
      return `<p class="warning">${escapeMarkup(block.text)}</p>`;
    case 'list':
      return `<ul>${block.items.map((item) => `<li>${escapeMarkup(item)}</li>`).join('')}</ul>`;
    case 'facts':
      return `<dl class="facts">${block.items.map(([key, value]) => `<dt>${escapeMarkup(key)}</dt><dd>${escapeMarkup(value)}</dd>`).join('')}</dl>`;
    case 'table': {
      const numeric = (index: number) => (block.numeric?.[index] ? ' class="num"' : '');
      const head = block.columns.map((column, index) => `<th${numeric(index)}>${escapeMarkup(column)}</th>`).join('');
      const rows = block.rows
        .map(
          (row) => `<tr>${row.map((cell, index) => `<td${numeric(index)}>${escapeMarkup(cell)}</td>`).join('')}</tr>`,
        )
        .join('');
      const caption = block.caption ? `<caption>${escapeMarkup(block.caption)}</caption>` : '';
      return `<table>${caption}<thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
    }
    case 'chart': {
      // The SVG is built by charts.ts, which escapes every text it holds.
      const caption = block.chart.caption ? `<figcaption>${escapeMarkup(block.chart.caption)}</figcaption>` : '';
      return `<figure class="chart" id="chart-${escapeMarkup(block.chart.id)}">${block.chart.svg}${caption}</figure>`;
    }
    case 'example': {
      const text = (item: { label: string; text: string }, className: string) =>
        `<div class="${className}"><div class="label">${escapeMarkup(item.label)}</div><div class="text">${escapeMarkup(item.text)}</div></div>`;
      return [
        '<div class="example">',
        `<h4>${escapeMarkup(block.title)}</h4>`,
        ...block.context.map((turn) => text(turn, 'turn')),
        `<div class="sides">${text(block.left, 'side left')}${text(block.right, 'side right')}</div>`,
        block.note ? `<div class="note">${escapeMarkup(block.note)}</div>` : '',
        '</div>',
      ].join('');
    }
  }
}

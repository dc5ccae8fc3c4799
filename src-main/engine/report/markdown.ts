/**
 * report.md with its charts as charts/<id>.svg next to it (the same SVG as report.html inlines).
 * Prose and table cells are escaped for Markdown and HTML; user texts (pairs, samples) go into
 * fenced code blocks whose fence no text can close.
 */
import { escapeMarkdownInline, markdownCodeBlock } from './escape.js';
import type { Block, ReportDocument } from './document.js';

export const CHARTS_FOLDER = 'charts';

export interface RenderedMarkdown {
  markdown: string;
  /** Files to write next to report.md: `charts/<id>.svg` (forward slashes) and their SVG text. */
  files: { path: string; content: string }[];
}

export function renderMarkdown(document: ReportDocument): RenderedMarkdown {
  const lines: string[] = [
    `# ${escapeMarkdownInline(document.title)}`,
    '',
    `_${escapeMarkdownInline(document.subtitle)}_`,
    '',
  ];
  lines.push(...document.sections.map((section) => `- ${escapeMarkdownInline(section.title)}`), '');
  for (const section of document.sections) {
    lines.push(`## ${escapeMarkdownInline(section.title)}`, '');
    for (const block of section.blocks) lines.push(...renderBlock(block), '');
  }
  const files = document.charts.map((chart) => ({ path: chartPath(chart.id), content: `${chart.svg}\n` }));
  return {
    markdown: `${lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd()}\n`,
    files,
  };
}

function chartPath(id: string): string {
  return `${CHARTS_FOLDER}/${id}.svg`;
}

function renderBlock(block: Block): string[] {
  switch (block.kind) {
    case 'subheading':
      return [`### ${escapeMarkdownInline(block.text)}`];
    case 'paragraph':
      return [escapeMarkdownInline(block.text)];
    case 'warning':
      return [`> ${escapeMarkdownInline(block.text)}`];
    case 'list':
      return block.items.map((item) => `- ${escapeMarkdownInline(item)}`);
    case 'facts':
      return block.items.map(([key, value]) => `- **${escapeMarkdownInline(key)}**: ${escapeMarkdownInline(value)}`);
    case 'table': {
      const row = (cells: string[]) => `| ${cells.map((cell) => escapeMarkdownInline(cell) || ' ').join(' | ')} |`;
      const rule = `| ${block.columns.map((_, index) => (block.numeric?.[index] ? '---:' : '---')).join(' | ')} |`;
      return [
        ...(block.caption ? [`**${escapeMarkdownInline(block.caption)}**`, ''] : []),
        row(block.columns),
        rule,
        ...block.rows.map(row),
      ];
    }
    case 'chart':
      return [
        `![${escapeMarkdownInline(block.chart.title)}](${chartPath(block.chart.id)})`,
        ...(block.chart.caption ? ['', `_${escapeMarkdownInline(block.chart.caption)}_`] : []),
      ];
    case 'example': {
      const text = (item: { label: string; text: string }) => [
        `**${escapeMarkdownInline(item.label)}**`,
        '',
        markdownCodeBlock(item.text),
        '',
      ];
      return [
        `#### ${escapeMarkdownInline(block.title)}`,
        '',
        ...block.context.flatMap(text),
        ...text(block.left),
        ...text(block.right),
        ...(block.note ? [escapeMarkdownInline(block.note)] : []),
      ];
    }
  }
}

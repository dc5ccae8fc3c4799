/** Pure helpers of the Import view: highlighted, shortened message text and small labels. */
import type { Conversation, PiiKind, PiiSpan, PiiTarget } from '../../../src-main/api/datasets.js';

/** A run of message text; `pii` is set on a personal-data match. */
export interface TextSegment {
  text: string;
  pii?: PiiKind;
}

export interface ShortText {
  segments: TextSegment[];
  /** Whether the text was cut at `limit` characters. */
  truncated: boolean;
}

/**
 * Splits `content` into plain runs and personal-data matches (spans are UTF-16 offsets, as the
 * engine stores them), cut after `limit` characters. Overlapping or out-of-range spans are
 * clipped, never duplicated, so the segments always join back to the shown text.
 */
export function highlightText(
  content: string,
  spans: readonly Pick<PiiSpan, 'start' | 'end' | 'kind'>[],
  limit: number,
): ShortText {
  const end = Math.min(content.length, Math.max(0, limit));
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const segments: TextSegment[] = [];
  let position = 0;
  for (const span of sorted) {
    const start = Math.max(span.start, position);
    const stop = Math.min(span.end, end);
    if (start >= stop) continue;
    if (start > position) segments.push({ text: content.slice(position, start) });
    segments.push({ text: content.slice(start, stop), pii: span.kind });
    position = stop;
  }
  if (position < end) segments.push({ text: content.slice(position, end) });
  return { segments, truncated: end < content.length };
}

/** The personal-data spans of one slot of a conversation (a message turn, or chosen/rejected/feedback). */
export function spansOf(conversation: Conversation, target: PiiTarget): PiiSpan[] {
  return conversation.pii?.spans.filter((span) => span.target === target) ?? [];
}

/** `wild.jsonl:3`, or `data.parquet row 12` where the container has no lines. */
export function sourceLabel(source: { file: string; line?: number | null; row?: number }): string {
  if (source.line !== undefined && source.line !== null) return `${source.file}:${source.line}`;
  if (source.row !== undefined) return `${source.file} row ${source.row}`;
  return source.file;
}

/** 1536 → "1.5 KB" (decimal units, like file managers). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** The name the engine gives a dataset when none is typed: the first path's base name without data extensions. */
export function defaultDatasetName(firstPath: string): string {
  const base =
    firstPath
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  return (
    base.replace(/\.gz$/i, '').replace(/\.(jsonl|ndjson|jsonlines|json|csv|tsv|tab|parquet|pq)$/i, '') || 'dataset'
  );
}

/** `{email: 2, phone: 1}` → "email 2, phone 1"; empty → ''. */
export function countsText(counts: Readonly<Record<string, number | undefined>>): string {
  return Object.entries(counts)
    .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${key} ${count.toLocaleString()}`)
    .join(', ');
}

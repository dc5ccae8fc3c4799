/** Splits a message into plain and highlighted pieces, for evidence spans shown as <mark>. */

export interface HighlightSpan {
  start: number;
  end: number;
  /** What the tooltip says: the rule or feature and its description. */
  title: string;
  category?: string;
}

export interface TextPiece {
  text: string;
  mark: HighlightSpan | null;
}

/** Overlapping spans: the earlier one wins and the later one starts where it ends. Offsets are UTF-16. */
export function highlightPieces(text: string, spans: readonly HighlightSpan[]): TextPiece[] {
  const sorted = spans
    .filter((span) => span.end > span.start && span.start < text.length)
    .toSorted((a, b) => a.start - b.start || b.end - a.end);
  const pieces: TextPiece[] = [];
  let position = 0;
  for (const span of sorted) {
    const start = Math.max(span.start, position);
    const end = Math.min(span.end, text.length);
    if (end <= start) continue;
    if (start > position) pieces.push({ text: text.slice(position, start), mark: null });
    pieces.push({ text: text.slice(start, end), mark: span });
    position = end;
  }
  if (position < text.length || pieces.length === 0) pieces.push({ text: text.slice(position), mark: null });
  return pieces;
}

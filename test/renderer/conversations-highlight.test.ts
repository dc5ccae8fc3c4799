import { describe, expect, it } from 'vitest';
import { highlightPieces } from '../../src-renderer/src/lib/conversations-highlight.js';

const span = (start: number, end: number, title = 'rule') => ({ start, end, title });
const joined = (pieces: ReturnType<typeof highlightPieces>) => pieces.map((piece) => piece.text).join('');

describe('highlightPieces', () => {
  it('marks the evidence span and keeps the text around it', () => {
    const pieces = highlightPieces("That's wrong, the answer is 12.", [span(0, 12, 'dsat.wrong')]);
    expect(pieces.map((piece) => [piece.text, piece.mark?.title ?? null])).toEqual([
      ["That's wrong", 'dsat.wrong'],
      [', the answer is 12.', null],
    ]);
  });

  it('never loses or repeats text with overlapping, unsorted and out-of-range spans', () => {
    const text = 'no, that is not what I asked for';
    const pieces = highlightPieces(text, [
      span(12, 15),
      span(0, 2),
      span(1, 7),
      span(30, 99),
      span(40, 50),
      span(5, 5),
    ]);
    expect(joined(pieces)).toBe(text);
    expect(pieces.filter((piece) => piece.mark).map((piece) => piece.text)).toEqual(['no', ', tha', 'not', 'or']);
  });

  it('answers the whole text unmarked without spans', () => {
    expect(highlightPieces('thanks!', [])).toEqual([{ text: 'thanks!', mark: null }]);
    expect(highlightPieces('', [])).toEqual([{ text: '', mark: null }]);
  });
});

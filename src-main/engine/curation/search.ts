/**
 * A compact full-text index for the list views: for each term (text.ts `searchTerms`), the sorted
 * documents that contain it. A query matches documents containing every one of its terms.
 *
 * Hand-written rather than minisearch/flexsearch because those keep every term string and a map
 * per term, which for 100k real chat conversations runs to gigabytes; this index keeps no strings:
 * - a term is its 31-bit FNV-1a hash (two terms colliding in 2³¹ is rare and only widens a result);
 * - postings are collected as one float64 key per (term, document) pair, hash·2²² + document, in
 *   segments of a million keys; a full segment is sorted natively and packed into three typed arrays
 *   (distinct hashes, their start offsets, documents). Documents are added in increasing order, so
 *   one term's postings across segments are already sorted.
 * Memory is about 4 bytes per (term, document) pair plus 8 per distinct term per segment.
 */
import { hashString, searchTerms } from '../signals/text.js';

/** At most this many documents (2²²); keys must stay below 2⁵³. */
export const MAX_DOCUMENTS = 1 << 22;
const SEGMENT_KEYS = 1 << 20;

interface Segment {
  hashes: Uint32Array;
  starts: Uint32Array;
  documents: Uint32Array;
}

const termHash = (term: string) => hashString(term) >>> 1;

/** Sorted intersection of two sorted arrays. */
function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  const result = new Uint32Array(Math.min(a.length, b.length));
  let count = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      result[count++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return result.subarray(0, count);
}

export class TermIndex {
  readonly #segments: Segment[] = [];
  #keys = new Float64Array(SEGMENT_KEYS);
  #count = 0;
  #lastDocument = -1;
  #sealed = false;

  /** Adds a document's terms; documents must be added in increasing order. */
  add(document: number, terms: Iterable<string>): void {
    if (this.#sealed) throw new Error('TermIndex: add after seal');
    if (document <= this.#lastDocument || document >= MAX_DOCUMENTS)
      throw new Error(`TermIndex: bad document ${document}`);
    this.#lastDocument = document;
    const seen = new Set<number>();
    for (const term of terms) {
      const hash = termHash(term);
      if (seen.has(hash)) continue;
      seen.add(hash);
      if (this.#count === this.#keys.length) this.#flush();
      this.#keys[this.#count++] = hash * MAX_DOCUMENTS + document;
    }
  }

  /** Adds the search terms of `text` (at most `limit` distinct terms). */
  addText(document: number, text: string, limit?: number): void {
    this.add(document, searchTerms(text, limit));
  }

  #flush(): void {
    if (this.#count === 0) return;
    const keys = this.#keys.subarray(0, this.#count).sort();
    const hashes: number[] = [];
    const starts: number[] = [];
    const documents = new Uint32Array(keys.length);
    let previous = -1;
    keys.forEach((key, position) => {
      const hash = Math.floor(key / MAX_DOCUMENTS);
      documents[position] = key - hash * MAX_DOCUMENTS;
      if (hash !== previous) {
        hashes.push(hash);
        starts.push(position);
        previous = hash;
      }
    });
    starts.push(keys.length);
    this.#segments.push({ hashes: Uint32Array.from(hashes), starts: Uint32Array.from(starts), documents });
    this.#count = 0;
  }

  /** Packs the last segment and frees the collection buffer. */
  seal(): void {
    if (this.#sealed) return;
    this.#flush();
    this.#keys = new Float64Array(0);
    this.#sealed = true;
  }

  /** The sorted documents containing the term with this hash. */
  #postings(hash: number): Uint32Array {
    const parts: Uint32Array[] = [];
    let total = 0;
    for (const segment of this.#segments) {
      let low = 0;
      let high = segment.hashes.length - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const value = segment.hashes[middle]!;
        if (value === hash) {
          const part = segment.documents.subarray(segment.starts[middle]!, segment.starts[middle + 1]!);
          parts.push(part);
          total += part.length;
          break;
        }
        if (value < hash) low = middle + 1;
        else high = middle - 1;
      }
    }
    if (parts.length === 1) return parts[0]!;
    const merged = new Uint32Array(total);
    let offset = 0;
    for (const part of parts) {
      merged.set(part, offset);
      offset += part.length;
    }
    return merged;
  }

  /**
   * Documents matching every term of `query`, sorted; null when the query has no terms (no
   * filtering).
   */
  search(query: string): Uint32Array | null {
    const terms = searchTerms(query);
    if (terms.length === 0) return null;
    this.seal();
    const lists = terms.map((term) => this.#postings(termHash(term))).sort((a, b) => a.length - b.length);
    let result = lists[0]!;
    for (const list of lists.slice(1)) {
      if (result.length === 0) break;
      result = intersect(result, list);
    }
    return result;
  }
}

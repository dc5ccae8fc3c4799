/**
 * Strict UTF-8 decoding. `Buffer#toString` silently turns bad bytes into U+FFFD
 * (reference/reliability.md §0 item 10); imported text must instead be rejected with the offset
 * of the first bad byte. `isUtf8` validates with simdutf, which is several times faster than a
 * fatal TextDecoder per line.
 */
import { isUtf8 } from 'node:buffer';

/** The text of `bytes`, or null if they are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | null {
  if (!isUtf8(bytes)) return null;
  return bytes.toString('utf8');
}

/** Offset of the first byte that breaks UTF-8 in `bytes` (its length if all is valid). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    let size: number;
    let min: number;
    if (lead < 0x80) {
      index++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      size = 2;
      min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      size = 3;
      min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      size = 4;
      min = 0x10000;
    } else {
      return index;
    }
    if (index + size > bytes.length) return index;
    let codePoint = lead & (0xff >> (size + 1));
    for (let offset = 1; offset < size; offset++) {
      const next = bytes[index + offset]!;
      if ((next & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += size;
  }
  return index;
}

/**
 * Exact duplicates: two conversations are the same when their content (roles and text with
 * surrounding whitespace trimmed, in order, answers and feedback included) hashes the same. The index keeps one short hash per distinct conversation (about 100 bytes each).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Draft } from './formats/index.js';
import type { Message } from './schema.js';

function update(hash: Hash, slot: string, message: Message | undefined): void {
  if (!message) return;
  hash.update(`\u001e${slot}\u001f${message.role}\u001f`);
  hash.update(message.content.trim());
}

/** SHA-1 (base64, 27 characters) of the conversation's content: slots, roles and trimmed text, in order. */
export function contentHash(draft: Draft): string {
  const hash = createHash('sha1');
  for (const message of draft.messages) update(hash, 'm', message);
  update(hash, 'c', draft.pair?.chosen);
  update(hash, 'r', draft.pair?.rejected);
  update(hash, 'f', draft.feedback);
  if (draft.label !== undefined) hash.update(`\u001el\u001f${draft.label}`);
  return hash.digest('base64').slice(0, 27);
}

/** Remembers the first conversation id per content hash. */
export class DuplicateIndex {
  readonly #first = new Map<string, string>();
  duplicates = 0;

  /** The id of the earlier conversation with this content, or undefined (and remembers `id`). */
  check(hash: string, id: string): string | undefined {
    const first = this.#first.get(hash);
    if (first !== undefined) {
      this.duplicates++;
      return first;
    }
    this.#first.set(hash, id);
    return undefined;
  }
}

/**
 * Exact duplicates: two conversations are the same when their content (roles and text with
 * surrounding whitespace trimmed, in order, answers and feedback included) hashes the same.
 */
import { createHash } from 'node:crypto';
import type { Draft } from './formats/index.js';
import type { Message } from './schema.js';

function part(slot: string, message: Message | undefined): string {
  return message ? `\u001e${slot}\u001f${message.role}\u001f${message.content.trim()}` : '';
}

/**
 * SHA-1 (base64, 27 characters) of the conversation's content: slots, roles and trimmed text, in
 * order. Hashed as one string (one crossing into the hash, not two per message).
 */
export function contentHash(draft: Draft): string {
  let text = '';
  for (const message of draft.messages) text += part('m', message);
  text += part('c', draft.pair?.chosen) + part('r', draft.pair?.rejected) + part('f', draft.feedback);
  if (draft.label !== undefined) text += `\u001el\u001f${draft.label}`;
  return createHash('sha1').update(text).digest('base64').slice(0, 27);
}

const ID = /^[0-9a-f]{16}$/;
const FIRST_CAPACITY = 1 << 12;

/**
 * Remembers the first conversation id per content hash. The index lives in flat typed arrays
 * rather than a Map of strings: a slot holds the hash's first 96 bits and the 16-hex-digit id
 * (20 bytes, plus one for "taken"), at most half the slots are taken, so it costs about 40 bytes
 * per distinct conversation (a Map cost about 100) and holds nothing the garbage collector has
 * to trace. Two different contents share 96 bits with a probability near n²/2⁹⁷: never, in practice.
 */
export class DuplicateIndex {
  #capacity = FIRST_CAPACITY;
  #size = 0;
  #keys = new Uint32Array(3 * FIRST_CAPACITY);
  #ids = new Uint32Array(2 * FIRST_CAPACITY);
  #taken = new Uint8Array(FIRST_CAPACITY);
  duplicates = 0;

  /**
   * The id of the earlier conversation with this content, or undefined (and remembers `id`).
   * `hash` is a {@link contentHash}, `id` 16 lowercase hex digits (pipeline.ts conversationId).
   */
  check(hash: string, id: string): string | undefined {
    if (!ID.test(id)) throw new Error(`Conversation ids are 16 hex digits, not "${id}".`);
    const digest = Buffer.from(hash, 'base64');
    const a = digest.readUInt32BE(0);
    const b = digest.readUInt32BE(4);
    const c = digest.readUInt32BE(8);
    let slot = this.#find(a, b, c);
    if (this.#taken[slot] === 1) {
      this.duplicates++;
      return this.#idAt(slot);
    }
    if (2 * (this.#size + 1) > this.#capacity) {
      this.#grow();
      slot = this.#find(a, b, c);
    }
    this.#put(slot, a, b, c, parseInt(id.slice(0, 8), 16), parseInt(id.slice(8), 16));
    this.#size++;
    return undefined;
  }

  /** The slot holding this key, or the free slot where it belongs (linear probing). */
  #find(a: number, b: number, c: number): number {
    const mask = this.#capacity - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      if (this.#taken[slot] === 0) return slot;
      const at = 3 * slot;
      if (this.#keys[at] === a && this.#keys[at + 1] === b && this.#keys[at + 2] === c) return slot;
    }
  }

  #put(slot: number, a: number, b: number, c: number, high: number, low: number): void {
    this.#taken[slot] = 1;
    this.#keys[3 * slot] = a;
    this.#keys[3 * slot + 1] = b;
    this.#keys[3 * slot + 2] = c;
    this.#ids[2 * slot] = high;
    this.#ids[2 * slot + 1] = low;
  }

  #idAt(slot: number): string {
    const hex = (word: number) => word.toString(16).padStart(8, '0');
    return hex(this.#ids[2 * slot]!) + hex(this.#ids[2 * slot + 1]!);
  }

  #grow(): void {
    const keys = this.#keys;
    const ids = this.#ids;
    const taken = this.#taken;
    this.#capacity *= 2;
    this.#keys = new Uint32Array(3 * this.#capacity);
    this.#ids = new Uint32Array(2 * this.#capacity);
    this.#taken = new Uint8Array(this.#capacity);
    for (let old = 0; old < taken.length; old++) {
      if (taken[old] === 0) continue;
      const a = keys[3 * old]!;
      const b = keys[3 * old + 1]!;
      const c = keys[3 * old + 2]!;
      this.#put(this.#find(a, b, c), a, b, c, ids[2 * old]!, ids[2 * old + 1]!);
    }
  }
}

/**
 * Structure-aware mutation of JSON documents for the fuzz tests: replace, delete or duplicate a
 * value somewhere inside a valid document, so the parsers see files that are almost right (the
 * interesting ones), not only random bytes they reject at the first character.
 */
import fc from 'fast-check';
import { hostileValue } from './helpers.js';

type Json = unknown;

/** Every path to a value inside `value` (breadth first, at most `limit`). */
function paths(value: Json, limit = 400): (string | number)[][] {
  const found: (string | number)[][] = [];
  const queue: { node: Json; path: (string | number)[] }[] = [{ node: value, path: [] }];
  while (queue.length > 0 && found.length < limit) {
    const { node, path } = queue.shift()!;
    found.push(path);
    if (Array.isArray(node)) node.forEach((item, index) => queue.push({ node: item, path: [...path, index] }));
    else if (typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) queue.push({ node: item, path: [...path, key] });
    }
  }
  return found;
}

interface Edit {
  at: number;
  kind: number;
  value: unknown;
}

function applyEdit(document: Json, { at, kind, value }: Edit): Json {
  const all = paths(document);
  const target = all[at % all.length] ?? [];
  if (target.length === 0) return kind === 0 ? value : document;
  const parent = target.slice(0, -1).reduce<Json>((node, key) => (node as Record<string, Json>)[key], document);
  const key = target[target.length - 1]!;
  const container = parent as Record<string | number, Json>;
  if (kind === 0) container[key] = value;
  else if (kind === 1) {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key];
  } else if (Array.isArray(container)) {
    container.push(structuredClone(container[key as number]));
  } else {
    container[`${String(key)}_`] = value;
  }
  return document;
}

/** Up to `maxEdits` edits of a deep copy of `document`, serialised; sometimes also cut short. */
export function mutatedJson(document: Json, maxEdits = 3): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), kind: fc.nat(2), value: hostileValue });
  return fc
    .tuple(fc.array(edit, { minLength: 1, maxLength: maxEdits }), fc.option(fc.nat(), { freq: 5, nil: undefined }))
    .map(([edits, cut]) => {
      let copy = structuredClone(document);
      for (const step of edits) copy = applyEdit(copy, step);
      const text = JSON.stringify(copy) ?? 'null';
      return cut === undefined ? text : text.slice(0, cut % (text.length + 1));
    });
}

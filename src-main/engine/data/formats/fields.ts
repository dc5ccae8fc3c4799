/** The field listing shown when a format is unclear: every path in the sampled records. */
import type { FieldInfo } from '../../../api/index.js';
import { isRecord } from './types.js';

const MAX_DEPTH = 4;
const MAX_FIELDS = 200;
const EXAMPLE_CHARS = 80;

export function listFields(records: readonly unknown[]): FieldInfo[] {
  const seen = new Map<string, { types: Set<string>; count: number; example?: string }>();
  for (const record of records) {
    const paths = new Map<string, unknown>();
    collect(record, '', 0, paths);
    for (const [path, value] of paths) {
      let entry = seen.get(path);
      if (!entry) {
        if (seen.size >= MAX_FIELDS) continue;
        entry = { types: new Set(), count: 0 };
        seen.set(path, entry);
      }
      entry.count++;
      entry.types.add(typeName(value));
      if (
        entry.example === undefined &&
        (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      ) {
        const text = String(value);
        entry.example = text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS - 1)}…` : text;
      }
    }
  }
  const total = Math.max(1, records.length);
  return [...seen.entries()].map(([path, entry]) => {
    const field: FieldInfo = { path, types: [...entry.types].sort(), presence: Math.min(1, entry.count / total) };
    if (entry.example !== undefined) field.example = entry.example;
    return field;
  });
}

function collect(value: unknown, prefix: string, depth: number, out: Map<string, unknown>): void {
  if (prefix !== '') out.set(prefix, value);
  if (depth >= MAX_DEPTH) return;
  if (Array.isArray(value)) {
    if (value.length > 0) collect(value[0], prefix === '' ? '0' : `${prefix}.0`, depth + 1, out);
  } else if (isRecord(value)) {
    for (const key of Object.keys(value)) collect(value[key], prefix === '' ? key : `${prefix}.${key}`, depth + 1, out);
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

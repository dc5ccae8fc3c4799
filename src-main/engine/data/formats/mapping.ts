/**
 * Field mapping for shapes no adapter knows: `--map prompt=question --map chosen=answers.0.text`
 * puts the value at each path under the canonical field name, and the record is then read by
 * the format the mapped fields fit (or the one named with --format).
 */
import { AppFailure } from '../../../api/index.js';
import { isRecord } from './types.js';

/** Canonical target → dotted source path (array items as numbers). */
export type FieldMapping = Record<string, string>;

const TARGET = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PATH = /^[^.\s]+(\.[^.\s]+)*$/;

/**
 * Parses `target=path` strings.
 * @throws AppFailure `mapping_invalid`
 */
export function parseMapping(entries: readonly string[]): FieldMapping {
  const mapping: FieldMapping = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    const target = entry.slice(0, equals).trim();
    const source = entry.slice(equals + 1).trim();
    if (equals <= 0) throw new AppFailure('mapping_invalid', `"${entry}" is not target=path.`);
    checkEntry(target, source);
    mapping[target] = source;
  }
  return mapping;
}

/** Checks a mapping that arrived as an object (IPC, job params). */
export function checkMapping(mapping: Readonly<Record<string, string>>): FieldMapping {
  for (const [target, source] of Object.entries(mapping)) checkEntry(target, source);
  return { ...mapping };
}

function checkEntry(target: string, source: string): void {
  if (!TARGET.test(target) || target === '__proto__') {
    throw new AppFailure('mapping_invalid', `"${target}" is not a field name (letters, digits, _).`);
  }
  if (!PATH.test(source) || source.split('.').includes('__proto__')) {
    throw new AppFailure('mapping_invalid', `"${source}" is not a dotted path such as answers.0.text.`);
  }
}

/** The value at a dotted path, or undefined. */
export function valueAt(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

/**
 * The record with each mapped value under its target name. A top-level source field that was
 * moved is removed, so it is not kept twice; deeper sources stay in place (and in metadata).
 */
export function applyMapping(record: unknown, mapping: FieldMapping): unknown {
  if (!isRecord(record)) return record;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) if (key !== '__proto__') out[key] = record[key];
  for (const source of Object.values(mapping)) if (!source.includes('.')) delete out[source];
  for (const [target, source] of Object.entries(mapping)) {
    const value = valueAt(record, source);
    if (value !== undefined) out[target] = value;
    else delete out[target];
  }
  return out;
}

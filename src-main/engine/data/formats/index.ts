/**
 * The format registry and format detection. `detectFormat` scores every adapter on sampled
 * records: the share of records it fits, then how specific the fit is. A best share under
 * one half means "unknown": the caller asks for --format or a field mapping.
 */
import { AppFailure, type FormatCandidate, type FormatInfo } from '../../../api/index.js';
import { wildfeedbackAnnotations } from './annotations.js';
import { kto, lmsys, openai, sharegpt, wildchat } from './conversations.js';
import {
  driftDsat,
  driftSat,
  hhRlhf,
  instruction,
  preference,
  replyLikes,
  ultrafeedback,
  ultrafeedbackBinarized,
} from './preference.js';
import type { FormatAdapter } from './types.js';

/** Every format, most specific first. */
export const FORMATS: readonly FormatAdapter[] = [
  driftDsat,
  wildfeedbackAnnotations,
  sharegpt,
  wildchat,
  lmsys,
  kto,
  openai,
  hhRlhf,
  ultrafeedback,
  ultrafeedbackBinarized,
  driftSat,
  preference,
  replyLikes,
  instruction,
];

/** The share of sampled records the best format must fit. */
export const MIN_CONFIDENCE = 0.5;

export function listFormats(): FormatInfo[] {
  return FORMATS.map(({ name, label, description, aliases }) => ({ name, label, description, aliases: [...aliases] }));
}

/**
 * The adapter for a format name or alias.
 * @throws AppFailure `format_unknown`
 */
export function findFormat(name: string): FormatAdapter {
  const wanted = name.trim().toLowerCase();
  const found = FORMATS.find((format) => format.name === wanted || format.aliases.includes(wanted));
  if (!found) {
    const known = FORMATS.map((format) => format.name).join(', ');
    throw new AppFailure('format_unknown', `Unknown format "${name}". Known formats: ${known}.`);
  }
  return found;
}

export interface Detection {
  /** The best format, or null when none fits at least half the records. */
  format: FormatAdapter | null;
  confidence: number;
  candidates: FormatCandidate[];
}

export function detectFormat(records: readonly unknown[]): Detection {
  if (records.length === 0) return { format: null, confidence: 0, candidates: [] };
  const scored = FORMATS.map((format, order) => {
    let fits = 0;
    let weight = 0;
    for (const record of records) {
      const match = format.match(record);
      if (match > 0) {
        fits++;
        weight += match;
      }
    }
    return { format, order, share: fits / records.length, weight: fits > 0 ? weight / fits : 0 };
  }).filter((entry) => entry.share > 0);
  // Shares within 5% count as equal, and the more specific fit wins.
  scored.sort(
    (a, b) => Math.round(b.share * 20) - Math.round(a.share * 20) || b.weight - a.weight || a.order - b.order,
  );
  const candidates = scored.map((entry) => ({
    format: entry.format.name,
    score: Math.round(entry.share * 1000) / 1000,
  }));
  const best = scored[0];
  if (!best || best.share < MIN_CONFIDENCE) return { format: null, confidence: best?.share ?? 0, candidates };
  return { format: best.format, confidence: best.share, candidates };
}

export { applyMapping, checkMapping, parseMapping, valueAt, type FieldMapping } from './mapping.js';
export { listFields } from './fields.js';
export type { Draft, FormatAdapter, NormalizedItem, Normalizer } from './types.js';

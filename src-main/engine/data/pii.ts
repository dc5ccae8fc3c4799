/**
 * Personal data in chat text: e-mail addresses, phone numbers, payment-card numbers (Luhn
 * checked), IP addresses and secrets (credentials in URLs, secret query parameters, well-known
 * API key and token formats). Matches are counted, kept as spans for the reader to flag, and
 * optionally replaced by placeholders (`<EMAIL>`, `<PHONE>`, `<CARD>`, `<IP>`, `<SECRET>`).
 *
 * Pattern matching, not named-entity recognition: it finds the structured identifiers above
 * and not names or street addresses. Every pattern has bounded repetition, and e-mail
 * addresses are expanded around each `@`, so the scan stays linear on long unbroken text.
 */
import type { PiiKind } from './schema.js';

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

export const PLACEHOLDERS: Record<PiiKind, string> = {
  email: '<EMAIL>',
  phone: '<PHONE>',
  card: '<CARD>',
  ip: '<IP>',
  secret: '<SECRET>',
};

const EMAIL_LOCAL = /[A-Za-z0-9._%+-]/;
const EMAIL_DOMAIN = /[A-Za-z0-9.-]/;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;

/** Runs of digits with separators: the candidates for phones, cards and IPv4 addresses. */
const NUMERIC = /(?<![\w.+-])[+(]?\d[\d .()-]{5,40}\d(?![\w])/g;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV4_ANYWHERE =
  /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;
const IPV6 =
  /(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})(?![\w:])/g;
const DATE_LIKE = /^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$/;
const SECRET_TOKENS =
  /\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|sk-[A-Za-z0-9_-]{20,200}|xox[abprs]-[A-Za-z0-9-]{10,200}|AIza[0-9A-Za-z_-]{35}|[rs]k_live_[0-9A-Za-z]{16,200}|eyJ[\w-]{8,2000}\.eyJ[\w-]{8,4000}\.[\w-]{8,2000})|-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----|\bBearer\s+[A-Za-z0-9._~+/-]{20,500}=*/g;
/** Substrings every SECRET_TOKENS match contains: a plain search for them is far cheaper than the pattern. */
const SECRET_MARKERS = [
  'AKIA',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'sk-',
  'xox',
  'AIza',
  'k_live_',
  'eyJ',
  'PRIVATE KEY',
  'Bearer',
];
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]{1,15}:\/\/([^\s/:@]{1,128}:[^\s/@]{1,128})@/gi;
const SECRET_PARAMETER =
  /[?&](?:access_token|refresh_token|id_token|api[_-]?key|apikey|token|secret|client_secret|password|passwd|pwd|auth|sig|signature|private_token|key)=([^&\s#"'<>]{4,500})/gi;

/** Whether `digits` passes the Luhn checksum of payment-card numbers. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** All matches in `text`, sorted by start, without overlaps (the earlier, longer match wins). */
export function findPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  if (text.includes('@')) findEmails(text, found);
  if (/\d/.test(text)) findNumeric(text, found);
  if (mayHoldIpv6(text)) {
    for (const match of text.matchAll(IPV6)) {
      const value = match[0];
      if (value.split(':').filter(Boolean).length >= 3 && /\d/.test(value)) {
        found.push({ kind: 'ip', start: match.index, end: match.index + value.length });
      }
    }
  }
  if (holdsSecretMarker(text)) {
    for (const match of text.matchAll(SECRET_TOKENS)) {
      found.push({ kind: 'secret', start: match.index, end: match.index + match[0].length });
    }
  }
  if (text.includes('://')) {
    for (const match of text.matchAll(URL_CREDENTIALS)) {
      const start = match.index + match[0].length - 1 - match[1]!.length;
      found.push({ kind: 'secret', start, end: start + match[1]!.length });
    }
  }
  if (text.includes('=')) {
    for (const match of text.matchAll(SECRET_PARAMETER)) {
      const end = match.index + match[0].length;
      found.push({ kind: 'secret', start: end - match[1]!.length, end });
    }
  }
  return withoutOverlaps(found);
}

/** Every IPV6 match holds `::` or seven colons. */
function mayHoldIpv6(text: string): boolean {
  if (text.includes('::')) return true;
  let colons = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) {
    if (++colons === 7) return true;
  }
  return false;
}

/**
 * Whether `text` holds one of SECRET_MARKERS. Most chat text holds none, so a cheaper test
 * comes first: every marker holds `_`, `-` or `J` (of `eyJ`) or is one of the rarer words, and a
 * search for one character is far faster than one for a word that starts with a common letter.
 */
function holdsSecretMarker(text: string): boolean {
  const maybe =
    text.includes('_') ||
    text.includes('-') ||
    text.includes('J') ||
    text.includes('AKIA') ||
    text.includes('AIza') ||
    text.includes('xox') ||
    text.includes('PRIVATE KEY') ||
    text.includes('Bearer');
  return maybe && SECRET_MARKERS.some((marker) => text.includes(marker));
}

function findEmails(text: string, found: PiiMatch[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > 0 && at - start < MAX_LOCAL && EMAIL_LOCAL.test(text[start - 1]!)) start--;
    let end = at + 1;
    while (end < text.length && end - at <= MAX_DOMAIN && EMAIL_DOMAIN.test(text[end]!)) end++;
    // Trim trailing dots and hyphens; the domain needs a dot and a letter-only last label.
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    while (start < at && text[start] === '.') start++;
    const domain = text.slice(at + 1, end);
    const lastDot = domain.lastIndexOf('.');
    if (start < at && lastDot > 0 && /^[A-Za-z]{2,24}$/.test(domain.slice(lastDot + 1)) && !domain.includes('..')) {
      found.push({ kind: 'email', start, end });
    }
    at = text.indexOf('@', Math.max(end, at + 1));
  }
}

function findNumeric(text: string, found: PiiMatch[]): void {
  for (const match of text.matchAll(IPV4_ANYWHERE)) {
    // Loopback and "any address" identify nobody.
    if (match[0].startsWith('127.') || match[0] === '0.0.0.0') continue;
    found.push({ kind: 'ip', start: match.index, end: match.index + match[0].length });
  }
  for (const match of text.matchAll(NUMERIC)) {
    let value = match[0];
    let start = match.index;
    // Trim separators the class let in at either end ("(555) 123-4567 " or ") 12").
    const leading = /^[ .)-]+/.exec(value)?.[0].length ?? 0;
    value = value.slice(leading);
    start += leading;
    value = value.replace(/[ .(-]+$/, '');
    if (value.startsWith('(') && !value.includes(')')) {
      value = value.slice(1);
      start += 1;
    }
    const kind = classifyNumber(value);
    if (kind) found.push({ kind, start, end: start + value.length });
  }
}

/** Payment-card layouts: contiguous, groups of four, or Amex 4-6-5; issuer digits 2-6. */
const CARD_LAYOUT = /^[2-6](?:\d{12,18}|\d{3}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?|\d{3}[ -]\d{6}[ -]\d{4,5})$/;
/** Phone layouts: digit groups of 2-4 split by one separator, optional +country and (area). */
const PHONE_LAYOUT = /^(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,5}$/;
const INTERNATIONAL_COMPACT = /^\+\d{8,15}$/;
const STARTS_WITH_DATE = /^\d{4}[-./]\d{2}[-./]\d{2}/;

/** Card (Luhn valid, card layout), phone (9-15 digits in a phone layout) or nothing. */
function classifyNumber(value: string): PiiKind | null {
  if (IPV4.test(value)) return null; // reported by the IPv4 pass
  const digits = value.replace(/\D/g, '');
  if (digits.length >= 13 && digits.length <= 19 && CARD_LAYOUT.test(value) && luhnValid(digits)) return 'card';
  if (digits.length < 9 || digits.length > 15) return null;
  if (DATE_LIKE.test(value) || STARTS_WITH_DATE.test(value)) return null;
  return PHONE_LAYOUT.test(value) || INTERNATIONAL_COMPACT.test(value) ? 'phone' : null;
}

function withoutOverlaps(found: PiiMatch[]): PiiMatch[] {
  if (found.length < 2) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: PiiMatch[] = [];
  for (const match of found) {
    const last = kept.at(-1);
    if (last && match.start < last.end) continue;
    kept.push(match);
  }
  return kept;
}

/** `text` with each match replaced by its placeholder, and the placeholders' spans. */
export function redact(text: string, matches: readonly PiiMatch[]): { text: string; matches: PiiMatch[] } {
  if (matches.length === 0) return { text, matches: [] };
  let out = '';
  let cursor = 0;
  const moved: PiiMatch[] = [];
  for (const match of matches) {
    out += text.slice(cursor, match.start);
    const placeholder = PLACEHOLDERS[match.kind];
    moved.push({ kind: match.kind, start: out.length, end: out.length + placeholder.length });
    out += placeholder;
    cursor = match.end;
  }
  return { text: out + text.slice(cursor), matches: moved };
}

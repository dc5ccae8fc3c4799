/**
 * Escaping for every string a report puts into HTML, SVG or Markdown. Pair texts, prompts and
 * run names are user data (chat logs): they must show as text and never become markup.
 */

/** Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, lone surrogates, U+FFFE/U+FFFF). */
const XML_INVALID =
  // eslint-disable-next-line no-control-regex -- the point is to match control characters
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text safe inside HTML or SVG element content and inside quoted attribute values: the five
 * markup characters become entities, and characters an XML parser rejects (a standalone .svg
 * chart is XML) become U+FFFD.
 */
export function escapeMarkup(value: unknown): string {
  return String(value)
    .replace(XML_INVALID, '\uFFFD')
    .replace(/[&<>"']/g, (character) => ENTITIES[character] ?? character);
}

/**
 * Text safe in Markdown prose and table cells: markup characters as HTML entities (renderers
 * pass raw HTML through), Markdown syntax characters backslash-escaped, line breaks as spaces.
 */
export function escapeMarkdownInline(value: unknown): string {
  const plain = String(value)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_[\]{}()#+\-!|~]/g, (character) => `\\${character}`);
  return escapeMarkup(plain);
}

/**
 * A fenced code block holding `text` verbatim: the fence is one backtick longer than the longest
 * backtick run in the text, so nothing in it can close the block early.
 */
export function markdownCodeBlock(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const body = text.replace(XML_INVALID, '\uFFFD').replace(/\r\n?/g, '\n');
  return `${fence}text\n${body}\n${fence}`;
}

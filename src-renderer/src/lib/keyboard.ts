/** Keyboard shortcut helpers: the platform's modifier and how shortcuts are labelled. */

export const IS_MAC = /Mac|iPhone|iPad/.test(navigator.userAgent);

/** Ctrl on Windows and Linux, ⌘ on macOS. */
export function hasPrimaryModifier(event: KeyboardEvent): boolean {
  return IS_MAC ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
}

/** The digit of Ctrl/Cmd+1..9, read from the physical key so it works on every layout. */
export function digitOf(event: KeyboardEvent): number | null {
  const match = /^(?:Digit|Numpad)([0-9])$/.exec(event.code) ?? /^([0-9])$/.exec(event.key);
  return match ? Number(match[1]) : null;
}

/** "Ctrl+1" or "⌘1", for labels. */
export function shortcutLabel(key: string): string {
  return IS_MAC ? `⌘${key}` : `Ctrl+${key}`;
}

/** The same shortcut in aria-keyshortcuts syntax. */
export function ariaShortcut(key: string): string {
  return IS_MAC ? `Meta+${key}` : `Control+${key}`;
}

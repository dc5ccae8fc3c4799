/** Formatting of model facts for the Models view. */

const PARAMETER_UNITS = [
  { size: 1e12, suffix: 'T' },
  { size: 1e9, suffix: 'B' },
  { size: 1e6, suffix: 'M' },
  { size: 1e3, suffix: 'K' },
] as const;

/** 16544 → "16.5K"; 1_235_814_400 → "1.24B"; below a thousand the number itself. */
export function formatParameters(count: number): string {
  for (const unit of PARAMETER_UNITS) {
    if (count >= unit.size) return `${Number((count / unit.size).toPrecision(3))}${unit.suffix}`;
  }
  return String(count);
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 451647 → "441 KB" (binary multiples, as file managers show them). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))} ${BYTE_UNITS[unit]}`;
}

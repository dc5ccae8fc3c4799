/**
 * The YAML the bundle's configs need (TRL DPO configs, accelerate configs): nested maps of
 * scalars and flat lists. Strings are written as JSON strings, which YAML 1.2 reads as
 * double-quoted scalars, so no value needs YAML-specific escaping. A dozen lines instead of a
 * YAML library: the workbench has none as a dependency and only ever writes this subset.
 */
export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | readonly YamlScalar[] | { readonly [key: string]: YamlValue };

function scalar(value: YamlScalar): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`YAML: ${value} is not a finite number.`);
    return String(value);
  }
  return value === null ? 'null' : typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A YAML document for `value` (a map), with `comment` lines on top. */
export function toYaml(value: { readonly [key: string]: YamlValue }, comment: readonly string[] = []): string {
  const lines = comment.map((line) => `# ${line}`);
  const write = (map: { readonly [key: string]: YamlValue }, indent: string): void => {
    for (const [key, item] of Object.entries(map)) {
      const name = PLAIN_KEY.test(key) ? key : JSON.stringify(key);
      if (Array.isArray(item)) lines.push(`${indent}${name}: [${(item as YamlScalar[]).map(scalar).join(', ')}]`);
      else if (item !== null && typeof item === 'object') {
        lines.push(`${indent}${name}:`);
        write(item as { readonly [key: string]: YamlValue }, `${indent}  `);
      } else lines.push(`${indent}${name}: ${scalar(item as YamlScalar)}`);
    }
  };
  write(value, '');
  return `${lines.join('\n')}\n`;
}

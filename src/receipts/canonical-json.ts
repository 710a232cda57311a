// Canonical JSON for signed receipts (COL-6): object keys sorted by UTF-16 code units (what
// Array.prototype.sort does, and what docs/receipts/verify-receipt.mjs repeats), no whitespace,
// JSON's minimal string escapes. Only strings, safe integers, booleans, null, arrays and plain
// objects are allowed: a float or an undefined would make two implementations disagree.
export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON takes integers only (got ${value})`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const object = value as { readonly [key: string]: CanonicalValue };
  const keys = Object.keys(object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k]!)}`).join(',')}}`;
}

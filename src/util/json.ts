/**
 * The one deep equality for JSON values (Vapi resources, PATCH bodies, snapshots). Object key
 * order does not matter, array order does. A key whose value is `undefined` counts as absent,
 * as it does on the wire (JSON.stringify drops it): `{a: 1, b: undefined}` equals `{a: 1}`.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A JSON object as the receiver reads it from untrusted bodies. */
export type JsonRecord = Record<string, unknown>;

/** A plain JSON object (not null, not an array). */
export const isRecord: (v: unknown) => v is JsonRecord = isJsonObject;

/**
 * An own property of a JSON object, or undefined: a body cannot reach Object.prototype through
 * names such as `constructor` or `__proto__`.
 */
export function own(obj: unknown, key: string): unknown {
  return isJsonObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** `own` along a path. */
export function ownPath(obj: unknown, ...keys: string[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    cur = own(cur, k);
    if (cur === undefined) return undefined;
  }
  return cur;
}

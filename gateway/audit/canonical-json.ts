/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript serialises them. The hash chain is computed over this form, so
 * the stored text can be re-derived and checked byte for byte. It runs for every audited request,
 * so a part whose keys are already in order (how the gateway builds its events, and how stored
 * text parses back) is written by the native `JSON.stringify`, which keeps that order; only objects
 * out of order are written member by member.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value) as string | undefined;
    if (out === undefined) throw new TypeError('value has no JSON form');
    return out;
  }
  if (inOrder(value, 0)) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  // Array.prototype.sort's default order compares UTF-16 code units.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

const MAX_DEPTH = 64;

/**
 * Whether `JSON.stringify(value)` is already canonical: plain objects and arrays only (no
 * `toJSON`, no class instances), nothing without a JSON form, and every object's own enumerable
 * keys (in the order JSON.stringify visits them) strictly ascending by UTF-16 code units.
 */
function inOrder(value: object, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const v of value as unknown[]) if (!plainValue(v, depth)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  let prev: string | undefined;
  for (const k of Object.keys(obj)) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    if (!plainValue(obj[k], depth)) return false;
  }
  return true;
}

function plainValue(v: unknown, depth: number): boolean {
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === 'object') return inOrder(v, depth + 1);
  return t === 'string' || t === 'number' || t === 'boolean';
}

/**
 * The canonical JSON of `value`, written member by member down to `depth` levels, where each
 * object's text is looked up in (and added to) `memo` first. The same output as canonicalJson;
 * for a batch whose values share parts (the events of one request share agents, entities and
 * source), each shared part is written once.
 */
export function canonicalJsonShared(
  value: object,
  memo: WeakMap<object, string>,
  depth = 2,
): string {
  const hit = memo.get(value);
  if (hit !== undefined) return hit;
  let out: string;
  if (depth <= 0) {
    out = canonicalJson(value);
  } else if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += memberJson(value[i], memo, depth) ?? 'null';
    }
    out += ']';
  } else {
    const obj = value as Record<string, unknown>;
    out = '{';
    let first = true;
    for (const k of Object.keys(obj).sort()) {
      const v = memberJson(obj[k], memo, depth);
      if (v === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += `${JSON.stringify(k)}:${v}`;
    }
    out += '}';
  }
  memo.set(value, out);
  return out;
}

function memberJson(v: unknown, memo: WeakMap<object, string>, depth: number): string | undefined {
  if (v === undefined) return undefined;
  if (v !== null && typeof v === 'object') return canonicalJsonShared(v, memo, depth - 1);
  return canonicalJson(v);
}

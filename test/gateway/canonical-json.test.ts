import assert from 'node:assert/strict';
import { canonicalJson, canonicalJsonShared } from '../../gateway/audit/canonical-json.js';

/** The definition, written the obvious way: what the chain's stored text must equal. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value) as string | undefined;
    if (out === undefined) throw new TypeError('value has no JSON form');
    return out;
  }
  if (Array.isArray(value))
    return `[${value.map((v: unknown) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('audit: canonical JSON', () => {
  it('sorts keys by UTF-16 code units, drops undefined members, keeps array holes as null', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [3, undefined, { z: true, y: null }], c: undefined, é: 'x', Z: 0 }),
      '{"Z":0,"a":[3,null,{"y":null,"z":true}],"b":1,"é":"x"}',
    );
    assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFFFF': 2 }), '{"\u{1F600}":1,"\uFFFF":2}');
  });

  it('equals the reference definition on generated AuditEvent-like values', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const keys = ['type', 'agent', 'who', 'é', 'a b', '"q"', 'Z', 'entity', '10', '9', 'α'];
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3)
        return [1.5, -0, 1e21, 'text\n"x"', true, null, 0.1 + 0.2][Math.floor(rnd() * 7)];
      if (r < 0.55) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 1 + Math.floor(rnd() * 5); i++)
        o[keys[Math.floor(rnd() * keys.length)] ?? 'k'] = rnd() < 0.1 ? undefined : gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 500; i++) {
      const v = gen(0);
      assert.equal(canonicalJson(v), reference(v));
    }
    // Shared parts written once: values built from the same parts, one memo for all of them.
    const memo = new WeakMap<object, string>();
    const parts = Array.from({ length: 40 }, () => gen(1));
    for (let i = 0; i < 300; i++) {
      const pick = () => parts[Math.floor(rnd() * parts.length)];
      const v = rnd() < 0.3 ? [pick(), pick(), i] : { z: pick(), a: [pick(), pick()], m: i };
      for (const depth of [0, 1, 2, 3])
        assert.equal(canonicalJsonShared(v, memo, depth), reference(v));
    }
  });

  it('equals the reference definition when keys are already in order, nested out-of-order parts and non-plain objects included', () => {
    const values: unknown[] = [
      { a: 1, b: { c: [1, { d: 2, e: null }], f: 'x' }, g: undefined },
      { a: { z: 1, y: 2 }, b: [{ q: 1, p: 2 }] },
      { '10': 1, '9': 2 },
      { a: new Date(0), b: 1 },
      [{ a: 1 }, { b: 2, a: 1 }, [undefined, { x: undefined, y: 1 }]],
      { a: Object.assign(Object.create(null) as object, { b: 1, a: 2 }) },
    ];
    for (const v of values) assert.equal(canonicalJson(v), reference(v));
    assert.throws(() => canonicalJson({ a: 1, b: () => 1 }), TypeError);
  });

  it('refuses values with no JSON form', () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson(() => 1), TypeError);
  });
});

import assert from 'node:assert/strict';
import { isLosslessNumber, parse, stringify } from 'lossless-json';
import { demoBundles } from '../../../demo/index.js';
import {
  parseJson,
  parseNumber,
  plainView,
  stringifyJson,
  toPlain,
} from '../../../store/fhir/json.js';
import { FhirError } from '../../../store/fhir/outcome.js';

/** What lossless-json alone gives for `text`: the value, or the 400's diagnostics. */
function reference(text: string): { value: unknown } | { error: string } {
  try {
    return { value: parse(text, null, parseNumber) };
  } catch (err) {
    return { error: `malformed JSON: ${err instanceof Error ? err.message : 'malformed JSON'}` };
  }
}

function actual(text: string): { value: unknown } | { error: string } {
  try {
    return { value: parseJson(text) };
  } catch (err) {
    assert.ok(err instanceof FhirError, 'a 400 OperationOutcome');
    assert.equal(err.status, 400);
    return { error: err.issues[0]?.diagnostics ?? '' };
  }
}

/** Deep equality that also tells a LosslessNumber from a number, and checks key order. */
function same(a: unknown, b: unknown, at = '$'): void {
  if (isLosslessNumber(a) || isLosslessNumber(b)) {
    assert.ok(isLosslessNumber(a) && isLosslessNumber(b), `${at}: both lossless numbers`);
    assert.equal(a.value, b.value, at);
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    assert.ok(Array.isArray(a) && Array.isArray(b), `${at}: both arrays`);
    assert.equal(a.length, b.length, `${at}: length`);
    a.forEach((v: unknown, i) => {
      same(v, b[i], `${at}[${i}]`);
    });
    return;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    assert.deepEqual(Object.keys(a), Object.keys(b), `${at}: keys`);
    for (const k of Object.keys(a))
      same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    return;
  }
  assert.ok(Object.is(a, b), `${at}: ${String(a)} vs ${String(b)}`);
}

function check(text: string): void {
  const want = reference(text);
  const got = actual(text);
  if ('error' in want) {
    assert.ok('error' in got, `${text.slice(0, 60)} must be refused`);
    assert.equal(got.error, want.error);
  } else {
    assert.ok('value' in got, `${text.slice(0, 60)} must parse`);
    same(got.value, want.value);
  }
}

const TRICKY = [
  '{"valueDecimal":0.010}',
  '{"a":1e2,"b":1E2,"c":-0,"d":0,"e":-1.5,"f":12345678901234567890,"g":1.0}',
  '{"n":[1,2.50,3e-7,4.25e+10,1e400,-1e-400]}',
  '{"a":1,"a":1}',
  '{"a":1,"a":2}',
  '{"a":{"b":[1,{"c":"x"}]},"a":{"b":[1,{"c":"x"}]}}',
  '{"a":{"x":1,"x":2}}',
  '{"__proto__":{"polluted":true},"b":"c"}',
  '{"s":"colon: inside, {brace} [bracket] \\"quoted\\" -12 0.10"}',
  '{"s":"\\u00e9\\ud83d\\ude00\\n\\t\\/"}',
  '{"2":"b","1":"a","x":null,"t":true,"f":false}',
  '  [ 1 , {"a" : "b"} ]  ',
  '"just a string"',
  '-7',
  'null',
  '',
  '{',
  '{"a":}',
  '{"a":1,}',
  '{"a" 1}',
  '{a:1}',
  '[1,2',
  '{"a":01}',
  '{"a":-}',
  '{"a":1.}',
  '{"a":.5}',
  '{"a":"\\x"}',
  '{"a":"tab\there"}',
  '{"a":tru}',
  '{"a":1} x',
  '{"a":NaN}',
  '{"a":Infinity,"b":-Infinity}',
  '{"a":"x"}{"b":1}',
  `${'['.repeat(100)}${']'.repeat(100)}`,
];

describe('store: parseJson gives exactly what lossless-json gives', () => {
  it('on generated resources and Bundles (values, number kinds, key order)', () => {
    for (const b of demoBundles({ patients: 3 })) {
      const text = JSON.stringify(b);
      check(text);
      check(JSON.stringify(b, null, 2));
      for (const e of b.entry ?? []) check(JSON.stringify(e.resource));
    }
  });

  it('on numbers that a JavaScript number would change, repeated keys, escapes and bad syntax', () => {
    for (const text of TRICKY) check(text);
  });

  it('keeps refusing JSON nested deeper than 100 levels, before parsing', () => {
    assert.throws(
      () => parseJson(`${'['.repeat(101)}${']'.repeat(101)}`),
      (err: unknown) =>
        err instanceof FhirError &&
        /nests deeper than 100 levels/.test(err.issues[0]?.diagnostics ?? ''),
    );
  });
});

describe('store: stringifyJson writes exactly what lossless-json writes', () => {
  it('on generated resources, and on values holding lossless numbers', () => {
    const values: unknown[] = [];
    for (const b of demoBundles({ patients: 2 })) {
      values.push(b);
      for (const e of b.entry ?? []) values.push(e.resource);
    }
    for (const text of TRICKY) {
      const r = reference(text);
      if ('value' in r) values.push(r.value, { nested: [r.value, { deeper: r.value }] });
    }
    values.push({ a: undefined, b: [undefined, null], c: 'x' }, [1, 'two', false], 'text', 0);
    for (const v of values) assert.equal(stringifyJson(v), stringify(v));
  });

  it('gives a plain view equal to the plain copy, the value itself where nothing needs copying', () => {
    const texts = [
      '{"resourceType":"Observation","valueQuantity":{"value":5.2},"note":[{"text":"x"}]}',
      '{"resourceType":"Observation","valueQuantity":{"value":0.010}}',
      '{"a":[1,{"b":12345678901234567890}]}',
      '{"resourceType":"Patient","__proto__":{"gender":"male"}}',
      '{"a":[{"b":{"__proto__":1}}]}',
    ];
    const copied = texts.map((text) => {
      const value = parseJson(text);
      const view = plainView(value);
      const copy = toPlain(value);
      // a __proto__ member becomes the prototype of toPlain's copy: compare that too
      const shape = (v: unknown) => JSON.stringify([v, Object.getPrototypeOf(v)]);
      assert.equal(shape(view), shape(copy), text);
      return view !== value;
    });
    assert.deepEqual(copied, [false, true, true, true, true]);
  });
});

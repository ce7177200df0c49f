import { isLosslessNumber } from 'lossless-json';
import { badRequest, businessRule } from '../fhir/outcome.js';
import {
  isJsonObject,
  parseJson,
  stringifyJson,
  type JsonObject,
  type JsonValue,
} from '../fhir/json.js';

/** RFC 6902 JSON Patch over lossless JSON (numbers keep their text). Failures are 422. */

type Container = JsonObject | JsonValue[];

function pointer(path: unknown, what: string): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
    throw badRequest(`JSON Patch ${what} must be a JSON Pointer`);
  }
  return path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const clone = (v: JsonValue): JsonValue => parseJson(stringifyJson(v));

function child(c: Container, token: string, path: string): JsonValue {
  if (Array.isArray(c)) {
    const i = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : -1;
    const v = c[i];
    if (v === undefined) throw businessRule(`JSON Patch path ${path} does not exist`);
    return v;
  }
  if (!Object.hasOwn(c, token)) throw businessRule(`JSON Patch path ${path} does not exist`);
  return c[token] as JsonValue;
}

function resolveParent(
  doc: JsonValue,
  tokens: string[],
  path: string,
): { parent: Container; key: string } {
  let cur: JsonValue = doc;
  for (const t of tokens.slice(0, -1)) {
    if (!Array.isArray(cur) && !isJsonObject(cur))
      throw businessRule(`JSON Patch path ${path} does not exist`);
    cur = child(cur, t, path);
  }
  if (!Array.isArray(cur) && !isJsonObject(cur))
    throw businessRule(`JSON Patch path ${path} does not exist`);
  const key = tokens[tokens.length - 1];
  if (key === undefined) throw businessRule('JSON Patch cannot replace the whole resource');
  return { parent: cur, key };
}

function get(doc: JsonValue, path: string): JsonValue {
  const tokens = pointer(path, 'path');
  if (tokens.length === 0) return doc;
  const { parent, key } = resolveParent(doc, tokens, path);
  return child(parent, key, path);
}

function arrayIndex(key: string, length: number, path: string, allowEnd: boolean): number {
  if (allowEnd && key === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw businessRule(`JSON Patch path ${path}: bad array index`);
  const i = Number(key);
  if (i > length || (!allowEnd && i === length))
    throw businessRule(`JSON Patch path ${path}: index out of range`);
  return i;
}

function add(doc: JsonValue, path: string, value: JsonValue): void {
  const { parent, key } = resolveParent(doc, pointer(path, 'path'), path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, path, true), 0, value);
  else parent[key] = value;
}

function remove(doc: JsonValue, path: string): JsonValue {
  const { parent, key } = resolveParent(doc, pointer(path, 'path'), path);
  const old = child(parent, key, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, path, false), 1);
  else Reflect.deleteProperty(parent, key);
  return old;
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (
    isLosslessNumber(a) ||
    isLosslessNumber(b) ||
    typeof a === 'number' ||
    typeof b === 'number'
  ) {
    return (typeof a === 'number' || isLosslessNumber(a)) &&
      (typeof b === 'number' || isLosslessNumber(b))
      ? Number(a.valueOf()) === Number(b.valueOf())
      : false;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((v, i) => jsonEqual(v, b[i] ?? null))
    );
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k] ?? null, b[k] ?? null))
    );
  }
  return a === b;
}

/** Applies `ops` (a JSON Patch document) to a copy of `doc`. */
export function applyJsonPatch(doc: JsonValue, ops: JsonValue): JsonValue {
  if (!Array.isArray(ops)) throw badRequest('a JSON Patch document is an array of operations');
  const out = clone(doc);
  ops.forEach((raw, i) => {
    if (!isJsonObject(raw) || typeof raw.op !== 'string')
      throw badRequest(`JSON Patch operation ${i} has no op`);
    const opName = raw.op;
    const path = raw.path;
    if (typeof path !== 'string') throw badRequest(`JSON Patch operation ${i} has no path`);
    const needValue = () => {
      if (!Object.hasOwn(raw, 'value'))
        throw badRequest(`JSON Patch operation ${i} (${opName}) needs a value`);
      return raw.value as JsonValue;
    };
    const from = () => {
      if (typeof raw.from !== 'string') throw badRequest(`JSON Patch operation ${i} needs from`);
      return raw.from;
    };
    switch (raw.op) {
      case 'add':
        add(out, path, needValue());
        break;
      case 'remove':
        remove(out, path);
        break;
      case 'replace': {
        const value = needValue();
        remove(out, path);
        add(out, path, value);
        break;
      }
      case 'move': {
        const f = from();
        if (path.startsWith(`${f}/`))
          throw badRequest(`JSON Patch operation ${i}: cannot move into itself`);
        add(out, path, remove(out, f));
        break;
      }
      case 'copy':
        add(out, path, clone(get(out, from())));
        break;
      case 'test':
        if (!jsonEqual(get(out, path), needValue()))
          throw businessRule(`JSON Patch test failed at ${path}`);
        break;
      default:
        throw badRequest(`JSON Patch operation ${i}: unknown op ${raw.op}`);
    }
  });
  return out;
}

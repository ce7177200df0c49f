import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { rewriteBranch, splitUnion } from '../definitions/split-expression.js';

/** One value an expression selected, with its FHIR type when known (`CodeableConcept`, `date`…). */
export interface Extracted {
  readonly type: string | undefined;
  readonly value: unknown;
  /** What to evaluate a composite's component expressions against. */
  readonly node: unknown;
}

export type Extractor = (input: unknown) => Extracted[];

type PathType = string | { code: string } | undefined;
const path2Type = r4.path2Type as Record<string, PathType>;
const choicePaths = r4.choiceTypePaths as Record<string, unknown>;

const PLAIN_PATH = /^[A-Z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/;

/** The element type at the end of a plain dotted path, or undefined when it needs FHIRPath. */
export function plainPathType(branch: string): string | undefined {
  if (!PLAIN_PATH.test(branch)) return undefined;
  const [root, ...segments] = branch.split('.');
  let cur = root ?? '';
  let type: string | undefined;
  for (const seg of segments) {
    const key = `${cur}.${seg}`;
    if (key in choicePaths) return undefined;
    const found = path2Type[key];
    if (found === undefined) return undefined;
    type = typeof found === 'string' ? found : found.code;
    cur = type === 'BackboneElement' || type === 'Element' ? key : type;
  }
  return type;
}

function walk(input: unknown, segments: readonly string[], type: string): Extracted[] {
  let values: unknown[] = [input];
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const v of values) {
      if (typeof v !== 'object' || v === null) continue;
      const child = (v as Record<string, unknown>)[seg];
      if (Array.isArray(child)) next.push(...(child as unknown[]));
      else if (child !== undefined && child !== null) next.push(child);
    }
    values = next;
  }
  return values.map((value) => ({ type, value, node: value }));
}

interface FhirNode {
  data: unknown;
  fhirNodeDataType?: string;
}

function isNode(v: unknown): v is FhirNode {
  return typeof v === 'object' && v !== null && 'data' in v && 'fhirNodeDataType' in v;
}

/** fhirpath.js wraps decimals (FP_Decimal); index the plain number. */
function unwrap(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && 'asStr' in v && typeof v.asStr === 'string')
    return Number(v.asStr);
  return v;
}

function compileFhirPath(expression: string): Extractor {
  const fn = fhirpath.compile(expression, r4, { resolveInternalTypes: false });
  return (input) => {
    const out: unknown[] = fn(input) as unknown[];
    return out.map((v) =>
      isNode(v)
        ? { type: v.fhirNodeDataType, value: unwrap(v.data), node: v }
        : { type: undefined, value: v, node: v },
    );
  };
}

/**
 * Compiles a (per-type, already split) expression once: plain dotted branches are walked directly
 * (~40× faster), the rest run through fhirpath.js. `typedNodes`: always fhirpath.js, so each
 * result carries its type for evaluating a composite's components. Throws on an expression
 * fhirpath.js rejects.
 */
export function compileExtractor(expression: string, typedNodes = false): Extractor {
  if (typedNodes) return compileFhirPath(rewriteBranch(expression));
  const parts: Extractor[] = [];
  const complex: string[] = [];
  for (const branch of splitUnion(expression)) {
    const type = plainPathType(branch);
    if (type === undefined) complex.push(rewriteBranch(branch));
    else {
      const segments = branch.split('.').slice(1);
      parts.push((input) => walk(input, segments, type));
    }
  }
  if (complex.length > 0) parts.push(compileFhirPath(complex.join(' | ')));
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  return (input) => parts.flatMap((p) => p(input));
}

/** Compiles a composite component's expression, relative to a node the composite selected. */
export function compileRelative(expression: string): Extractor {
  return compileFhirPath(rewriteBranch(expression));
}

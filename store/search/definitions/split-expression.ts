/**
 * Splits a shared multi-resource SearchParameter expression (`A.x | B.y.where(resolve() is C)`)
 * into the branches of one resource type, rewritten for fhirpath.js:
 * - `resolve() is T` becomes a test on the reference text (fhirpath.js resolve() is async-only);
 * - `x as T` and `x.as(T)` become `x.ofType(T)` (`as` needs a singleton on repeating paths).
 */

/** Splits on `|` outside parentheses and string literals. */
export function splitUnion(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'" && expression[i - 1] !== '\\') quote = !quote;
    else if (quote) continue;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

/** The type name a branch starts with, e.g. `Observation` for `(Observation.value as Quantity)`. */
export function branchHead(branch: string): string | undefined {
  return /^\(*\s*([A-Za-z][A-Za-z0-9]*)\b/.exec(branch)?.[1];
}

const REFERENCE_PATH = '(^|/)TYPE/[A-Za-z0-9.-]{1,64}(/_history/.*)?$';

export function rewriteBranch(branch: string): string {
  return branch
    .replace(/resolve\(\)\s+is\s+([A-Za-z]+)/g, (_m, t: string) => {
      return `reference.matches('${REFERENCE_PATH.replace('TYPE', t)}')`;
    })
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, '.ofType($1)')
    .replace(/\s+as\s+([A-Za-z]+)/g, '.ofType($1)');
}

/**
 * The branches of `expression` that apply to `resourceType` (a branch on `Resource` or
 * `DomainResource` applies to every type and is re-rooted on it), rewritten. Empty if none.
 */
export function branchesForType(expression: string, resourceType: string): string[] {
  const out: string[] = [];
  for (const branch of splitUnion(expression)) {
    const head = branchHead(branch);
    if (head === resourceType) out.push(rewriteBranch(branch));
    else if (head === 'Resource' || head === 'DomainResource') {
      const at = branch.indexOf(head);
      out.push(rewriteBranch(branch.slice(0, at) + resourceType + branch.slice(at + head.length)));
    }
  }
  return out;
}

import r4 from 'fhirpath/fhir-context/r4';

/**
 * R4 (4.0.1) resource type names, from the R4 model that ships with HL7's fhirpath package (the
 * types whose ancestry reaches `Resource`), which is far lighter to load than the
 * StructureDefinitions.
 */

let types: ReadonlySet<string> | undefined;

function descendsFromResource(type: string, parents: Record<string, string | undefined>): boolean {
  let p = parents[type];
  for (let depth = 0; p !== undefined && depth < 10; depth++) {
    if (p === 'Resource') return true;
    p = parents[p];
  }
  return false;
}

/** Every concrete R4 resource type name, e.g. `Patient`. */
export function r4ResourceTypes(): ReadonlySet<string> {
  if (types === undefined) {
    const parents = (r4 as unknown as { type2Parent: Record<string, string | undefined> })
      .type2Parent;
    types = new Set(
      Object.keys(parents).filter(
        (t) => t !== 'DomainResource' && descendsFromResource(t, parents),
      ),
    );
  }
  return types;
}

export function isResourceType(name: string): boolean {
  return r4ResourceTypes().has(name);
}

/** R4 `id`: 1–64 of `[A-Za-z0-9\-.]`. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

import r4 from 'fhirpath/fhir-context/r4';

/** Every concrete R4 resource type, from the FHIRPath R4 model (never a hand-kept list). */
function concreteResourceTypes(): ReadonlySet<string> {
  const parents = r4.type2Parent as Record<string, string | undefined>;
  const isResource = (name: string): boolean => {
    let t: string | undefined = name;
    while (t !== undefined) {
      if (t === 'Resource') return true;
      t = parents[t];
    }
    return false;
  };
  const out = new Set<string>();
  for (const name of Object.keys(parents)) {
    if (name !== 'Resource' && name !== 'DomainResource' && isResource(name)) out.add(name);
  }
  return out;
}

export const RESOURCE_TYPES: ReadonlySet<string> = concreteResourceTypes();

export function isResourceType(name: string): boolean {
  return RESOURCE_TYPES.has(name);
}

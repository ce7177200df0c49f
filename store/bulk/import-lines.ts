import { isJsonObject, parseJson, toPlain, type JsonObject } from '../fhir/json.js';
import { isFhirError, issue, type OutcomeIssue } from '../fhir/outcome.js';
import { isValidId } from '../fhir/resource-types.js';
import { validateFhirResource } from '../fhir/validate.js';
import type { EntryIssues } from '../bundle/validator-thread.js';
import type { Tx } from '../engines/engine.js';
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

/**
 * Lines per transaction, and per request to the validator thread: the batch's chunks are all sent
 * to the thread at once and answered in order, so the event loop writes one chunk's lines while
 * the thread validates the next.
 */
const CHUNK = 25;
/** Chunks written at once (each its own transaction). */
const IN_FLIGHT = 4;

function versionOf(resource: JsonObject): { version?: number; lastUpdated?: number } {
  const meta = isJsonObject(resource.meta) ? resource.meta : {};
  const out: { version?: number; lastUpdated?: number } = {};
  const v = Number(meta.versionId);
  if (typeof meta.versionId === 'string' && Number.isInteger(v) && v > 0) out.version = v;
  const t = typeof meta.lastUpdated === 'string' ? Date.parse(meta.lastUpdated) : Number.NaN;
  if (!Number.isNaN(t)) out.lastUpdated = t;
  return out;
}

/** A line ready to write: valid, with an id. */
interface Ready {
  line: number;
  resource: JsonObject;
  type: string;
  id: string;
}

/** A line's result when it cannot be written (empty, not JSON, invalid, no id), or what to write. */
function prepare(
  text: string,
  line: number,
  ahead: readonly OutcomeIssue[] | null | undefined,
): LineResult | Ready {
  if (text.trim() === '') return { line, outcome: 'empty' };
  const value = parseJson(text);
  const problems = [...(ahead ?? validateFhirResource(toPlain(value)))];
  if (problems.length > 0) return { line, outcome: 'error', issues: problems };
  const resource = value as JsonObject;
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const id = typeof resource.id === 'string' ? resource.id : undefined;
  if (id === undefined || !isValidId(id)) {
    return { line, outcome: 'error', type, issues: [issue('error', 'required', 'id is required')] };
  }
  return { line, resource, type, id };
}

/** Writes one line in `tx`: its version kept (IncrementalLoad) or the next one (InitialLoad). */
async function writeLine(
  ctx: StoreContext,
  indexer: Indexer,
  tx: Tx,
  r: Ready,
  mode: ImportMode,
): Promise<VersionedOutcome> {
  const { version, lastUpdated } = versionOf(r.resource);
  if (mode === 'IncrementalLoad' && version !== undefined) {
    return writeVersioned(tx, indexer, r.resource, version, lastUpdated ?? Date.now());
  }
  const w = await ctx.repo.put(tx, r.type, r.id, r.resource, 'PUT');
  return w.created ? 'created' : 'updated';
}

function failed(line: number, err: unknown, ctx: StoreContext): LineResult {
  if (!isFhirError(err)) ctx.log.warn({ err }, 'import line failed');
  const issues = isFhirError(err)
    ? err.issues
    : [issue('error', 'exception', 'the resource could not be stored')];
  return { line, outcome: 'error', issues };
}

/**
 * Writes a chunk's ready lines in one transaction, in file order: their resources locked and read
 * in one step each, their inserts sharing statements (PostgreSQL, see Repository.writeBehind). One
 * transaction per line was four round trips and a commit each on PostgreSQL. When the chunk's
 * transaction fails (a line the write refuses: a SearchParameter whose expression does not
 * compile, a version that clashes), each line is written again in a transaction of its own, so
 * the others still land and the failing one reports its own error.
 */
async function writeChunk(
  ctx: StoreContext,
  indexer: Indexer,
  ready: readonly Ready[],
  mode: ImportMode,
): Promise<LineResult[]> {
  if (ready.length > 1) {
    try {
      const outcomes = await ctx.engine.transaction(async (tx) => {
        const keys = ready.map((r) => `${r.type}/${r.id}`);
        await tx.lockKeys(keys);
        await ctx.repo.prefetch(tx, keys);
        ctx.repo.writeBehind(tx);
        const out: VersionedOutcome[] = [];
        for (const r of ready) out.push(await writeLine(ctx, indexer, tx, r, mode));
        await Promise.all(ctx.repo.writesBehind(tx));
        return out;
      });
      return ready.map((r, i) => ({
        line: r.line,
        outcome: outcomes[i] ?? 'error',
        type: r.type,
        id: r.id,
      }));
    } catch (err) {
      // one line at a time below; said, so a chunk that always fails shows in the log
      ctx.log.debug({ err, lines: ready.length }, 'import chunk written again line by line');
    }
  }
  const results: LineResult[] = [];
  for (const r of ready) {
    try {
      const outcome = await ctx.engine.transaction((tx) => writeLine(ctx, indexer, tx, r, mode));
      results.push({ line: r.line, outcome, type: r.type, id: r.id });
    } catch (err) {
      results.push({ ...failed(r.line, err, ctx), type: r.type, id: r.id });
    }
  }
  return results;
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
  const { validator } = ctx;
  const chunks: Promise<EntryIssues | undefined>[] = [];
  for (let at = 0; at < lines.length; at += CHUNK)
    chunks.push(
      validator !== undefined && lines.length > CHUNK
        ? validator.validateLines(lines.slice(at, at + CHUNK))
        : Promise.resolve(undefined),
    );
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const c = next++;
      const issues = await chunks[c];
      const ready: Ready[] = [];
      for (let i = c * CHUNK; i < Math.min(lines.length, (c + 1) * CHUNK); i++) {
        try {
          const p = prepare(lines[i] ?? '', i, issues?.[i % CHUNK]);
          if ('resource' in p) ready.push(p);
          else results[i] = p;
        } catch (err) {
          results[i] = failed(i, err, ctx);
        }
      }
      for (const r of await writeChunk(ctx, indexer, ready, mode)) results[r.line] = r;
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chunks.length) }, worker));
  return results;
}

import { randomUUID } from 'node:crypto';
import type { Tx } from '../engines/engine.js';
import { isJsonObject, type JsonValue } from '../fhir/json.js';
import { badRequest, FhirError, issue } from '../fhir/outcome.js';
import { errorResponse } from '../http/errors.js';
import { FHIR_JSON } from '../http/respond.js';
import type {
  Disclosure,
  Handler,
  StoreContext,
  StoreRequest,
  StoreResponse,
} from '../http/types.js';
import { bundleText, entryText } from '../rest/bundle-text.js';
import { entryRequest, entryResponse, parseEntry, type ParsedEntry } from './entry.js';
import { rewriteReferences, rewriteUrl } from './references.js';
import { validatesEntry, type EntryIssues } from './validator-thread.js';

/** Processing order of a transaction (R4 http.html#trules): DELETE, POST, PUT/PATCH, GET/HEAD. */
const ORDER: Record<ParsedEntry['method'], number> = {
  DELETE: 0,
  POST: 1,
  PUT: 2,
  PATCH: 2,
  GET: 3,
  HEAD: 3,
};

const isPlaceholder = (u: string | undefined): u is string =>
  u !== undefined && /^urn:(uuid|oid):/.test(u);

function describe(e: ParsedEntry): string {
  return `Bundle.entry[${e.index}] (${e.method} ${e.url})`;
}

/** Re-throws an entry's failure naming the entry, keeping its status. */
function entryFailure(e: ParsedEntry, err: unknown): unknown {
  if (err instanceof FhirError) {
    return new FhirError(
      err.status,
      err.issues.map((i) => ({
        ...i,
        diagnostics: `${describe(e)}: ${i.diagnostics ?? i.code}`,
        expression: [`Bundle.entry[${e.index}]`, ...(i.expression ?? [])],
      })),
      err.headers,
    );
  }
  return err;
}

function entryTarget(e: ParsedEntry, req: StoreRequest): string | undefined {
  const [type, id] = req.path;
  return type !== undefined && id !== undefined && req.path.length === 2 && e.method !== 'POST'
    ? `${type}/${id}`
    : undefined;
}

/** `Type/id` of the resource an entry writes when its URL (or assigned id) names it. */
function writeKey(e: ParsedEntry, assignedId: string | undefined): string[] {
  if (e.method === 'GET' || e.method === 'HEAD') return [];
  const url = e.url.replace(/^\/+/, '');
  if (url.includes('?')) return [];
  const path = url.split('/');
  if (e.method === 'POST')
    return path.length === 1 && assignedId !== undefined ? [`${path[0]}/${assignedId}`] : [];
  return path.length === 2 && path[0] !== '' && path[1] !== '' ? [url] : [];
}

/** A transaction's placeholders: every POST gets its id before anything runs. */
interface Placeholders {
  /** Placeholder fullUrl → `Type/id`. */
  map: Map<string, string>;
  /** Entry index → the id its POST creates. */
  assigned: Map<number, string>;
}

function placeholders(entries: readonly ParsedEntry[]): Placeholders {
  const map = new Map<string, string>();
  const assigned = new Map<number, string>();
  for (const e of entries) {
    if (e.method === 'POST') {
      const id = randomUUID();
      assigned.set(e.index, id);
      const type = e.url.split(/[/?]/)[0] ?? '';
      if (isPlaceholder(e.fullUrl)) {
        if (map.has(e.fullUrl))
          throw badRequest(`${describe(e)}: fullUrl ${e.fullUrl} appears twice`);
        map.set(e.fullUrl, `${type}/${id}`);
      }
    } else if (e.method === 'PUT' && isPlaceholder(e.fullUrl) && !e.url.includes('?')) {
      map.set(e.fullUrl, e.url.replace(/^\/+/, ''));
    }
  }
  return { map, assigned };
}

/**
 * Validates the POST and PUT entries' resources on the validator thread, with the placeholders
 * rewritten as the transaction will rewrite them, while the event loop runs other work (the
 * previous Bundle's transaction). Small Bundles are not worth the thread's round trip.
 */
async function validateAhead(
  req: StoreRequest,
  ctx: StoreContext,
  entries: readonly ParsedEntry[],
  map: ReadonlyMap<string, string>,
): Promise<EntryIssues | undefined> {
  if (ctx.validator === undefined || req.body === undefined || req.parsed !== undefined) return;
  if (entries.filter(validatesEntry).length < VALIDATE_AHEAD_MIN) return;
  return ctx.validator.validateEntries(req.body, map);
}

/** Gives an entry's handler the thread's answer for its resource (null: the thread had none). */
function takeAhead(req: StoreRequest, issues: EntryIssues[number] | undefined): void {
  if (issues !== undefined && issues !== null) req.validated = issues;
}

/** Bundles with fewer resources to validate than this validate them on the event loop. */
const VALIDATE_AHEAD_MIN = 4;

/**
 * A transaction gives the event loop a turn once this many milliseconds have passed since its last
 * one. Its entries otherwise run back to back (on SQLite every await inside is a resolved promise):
 * a Bundle of 200 resources held the store thread for 60–80 ms, reads waited that long, and the
 * next Bundle's body was not read, so its validation on the validator thread could not start until
 * this transaction had committed. The transaction stays open across the turn; what runs meanwhile
 * cannot see it (SQLite reads use their own connection and other writes queue behind it;
 * PostgreSQL's transaction has a connection of its own).
 */
const TURN_EVERY_MS = 2;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runTransaction(
  parent: StoreRequest,
  ctx: StoreContext,
  dispatch: Handler,
  entries: ParsedEntry[],
  plan: Placeholders,
  ahead: EntryIssues | undefined,
  tx: Tx,
): Promise<{ responses: StoreResponse[]; fullUrls: (string | undefined)[] }> {
  // A copy: the entries change it as they run, and a retried transaction starts from the plan.
  const map = new Map(plan.map);
  const { assigned } = plan;
  // Transaction Bundles take turns (in every process), as SQLite's single writer makes them do; each
  // entry still takes its resource and conditional locks, so single writes interleave safely. On
  // PostgreSQL this first lock also runs the Bundle at READ COMMITTED ordered by advisory locks:
  // two large Bundles under SERIALIZABLE kept cancelling each other (40001, "pivot") and retried
  // past the gateway's timeout.
  if (parent.tx === undefined) await tx.lockKey('transaction-bundle');
  // The validation done ahead holds while every placeholder still means what it meant then.
  let aheadHolds = ahead !== undefined;
  // The resources the entries write by id, locked in one step (each write would lock its own), and
  // their current rows read in one step (each write would read its own).
  const keys = entries.flatMap((e) => writeKey(e, assigned.get(e.index)));
  await tx.lockKeys(keys);
  await ctx.repo.prefetch(tx, keys);
  // Conditional references (`Patient?identifier=…`) resolve once, inside this transaction.
  const resolved = await ctx.search?.resolveReferences?.(
    tx,
    entries.map((e) => e.resource),
    {
      ...(parent.constraint === undefined ? {} : { constraint: parent.constraint }),
      deadline: ctx.deadline(),
    },
  );
  for (const [reference, target] of resolved ?? []) {
    if (map.get(reference) !== target) aheadHolds = false;
    map.set(reference, target);
  }
  const responses: StoreResponse[] = [];
  const fullUrls: (string | undefined)[] = [];
  const touched = new Set<string>();
  const ordered = [...entries].sort(
    (a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index,
  );
  // Conditional creates run first among POSTs: a match changes what their placeholder means.
  const posts = ordered.filter((e) => e.method === 'POST');
  const conditionalPosts = new Set(posts.filter((e) => e.request.ifNoneExist !== undefined));
  const sequence = [
    ...ordered.filter((e) => e.method === 'DELETE'),
    ...posts.filter((e) => conditionalPosts.has(e)),
    ...posts.filter((e) => !conditionalPosts.has(e)),
    ...ordered.filter((e) => ORDER[e.method] >= 2),
  ];
  // Each entry's insert is sent without waiting for it (PostgreSQL; see Repository.writeBehind):
  // an entry is prepared while the one before it is written. `marks` tells whose they are.
  ctx.repo.writeBehind(tx);
  const marks: { e: ParsedEntry; upTo: number }[] = [];
  // Awaits the inserts sent so far: the first that failed fails its entry (the ones after it only
  // met the transaction aborted).
  const settleWrites = async (): Promise<void> => {
    const sent = ctx.repo.writesBehind(tx);
    let from = 0;
    for (const { e, upTo } of marks) {
      for (let i = from; i < upTo; i++) {
        try {
          await sent[i];
        } catch (err) {
          throw entryFailure(e, err);
        }
      }
      from = upTo;
    }
  };
  let turnAt = performance.now();
  for (const e of sequence) {
    if (performance.now() - turnAt >= TURN_EVERY_MS) {
      await nextTurn();
      turnAt = performance.now();
    }
    const resource = e.resource === undefined ? undefined : rewriteReferences(e.resource, map);
    const req = entryRequest(
      parent,
      ctx,
      resource === undefined ? e : { ...e, resource },
      rewriteUrl(e.url, map),
    );
    req.tx = tx;
    const assignedId = assigned.get(e.index);
    if (assignedId !== undefined) req.assignId = assignedId;
    if (aheadHolds) takeAhead(req, ahead?.[e.index]);
    if (req.path.length === 0)
      throw badRequest(`${describe(e)}: a Bundle cannot contain a batch or transaction`);
    let res: StoreResponse;
    try {
      res = await dispatch(req, ctx);
    } catch (err) {
      // an insert sent earlier may have failed first (PostgreSQL then refuses what follows)
      marks.push({ e, upTo: ctx.repo.writesBehind(tx).length });
      await settleWrites();
      throw entryFailure(e, err);
    }
    marks.push({ e, upTo: ctx.repo.writesBehind(tx).length });
    if (e.method !== 'GET' && e.method !== 'HEAD') {
      const ids = new Set([
        entryTarget(e, req),
        ...(res.disclosed ?? []).map((d) => `${d.type}/${d.id}`),
      ]);
      for (const id of ids) {
        if (id === undefined) continue;
        if (touched.has(id)) {
          throw entryFailure(
            e,
            badRequest(`${id} is changed by more than one entry of this transaction`),
          );
        }
        touched.add(id);
      }
    }
    if (e.method === 'POST' && isPlaceholder(e.fullUrl)) {
      const made = res.disclosed?.[0];
      if (made !== undefined) {
        const target = `${made.type}/${made.id}`;
        if (map.get(e.fullUrl) !== target) aheadHolds = false;
        map.set(e.fullUrl, target);
      }
    }
    responses[e.index] = res;
    const d = res.disclosed?.[0];
    fullUrls[e.index] =
      d === undefined || e.method === 'GET' ? undefined : `${ctx.baseUrl}/${d.type}/${d.id}`;
  }
  await settleWrites();
  return { responses, fullUrls };
}

function assemble(
  type: string,
  responses: StoreResponse[],
  fullUrls: (string | undefined)[],
): StoreResponse {
  const disclosed: Disclosure[] = [];
  const entries = responses.map((res, i) => {
    disclosed.push(...(res.disclosed ?? []));
    const { resource, response } = entryResponse(res);
    const fullUrl = fullUrls[i];
    return entryText({
      ...(fullUrl === undefined ? {} : { fullUrl }),
      ...(resource === undefined ? {} : { resource }),
      response,
    });
  });
  return {
    status: 200,
    headers: { 'content-type': FHIR_JSON },
    body: bundleText(type, entries),
    disclosed,
  };
}

/** A batch's entries that parse (each of the others fails on its own when it runs). */
function batchEntries(raw: readonly JsonValue[]): ParsedEntry[] {
  return raw.flatMap((value, i) => {
    try {
      return [parseEntry(value, i)];
    } catch {
      return [];
    }
  });
}

/** POST [base] with a batch or transaction Bundle. */
export async function processBundle(
  req: StoreRequest,
  ctx: StoreContext,
  dispatch: Handler,
  bundle: Record<string, JsonValue>,
): Promise<StoreResponse> {
  const kind = bundle.type;
  if (kind !== 'batch' && kind !== 'transaction') {
    throw badRequest('POST to the base takes a Bundle of type batch or transaction', [
      'Bundle.type',
    ]);
  }
  const raw = Array.isArray(bundle.entry) ? bundle.entry : [];
  if (raw.length > ctx.config.bundleMaxEntries) {
    throw new FhirError(400, [
      issue(
        'error',
        'too-costly',
        `a Bundle may have at most ${ctx.config.bundleMaxEntries} entries (BUNDLE_MAX_ENTRIES)`,
      ),
    ]);
  }
  if (kind === 'transaction') {
    const entries = raw.map((e, i) => parseEntry(e, i));
    const plan = placeholders(entries);
    // Before the transaction: it may have to wait for the writer, and validation runs meanwhile.
    const ahead = await validateAhead(req, ctx, entries, plan.map);
    const run = (tx: Tx) => runTransaction(req, ctx, dispatch, entries, plan, ahead, tx);
    const { responses, fullUrls } =
      req.tx !== undefined ? await run(req.tx) : await ctx.engine.transaction(run);
    return assemble('transaction-response', responses, fullUrls);
  }
  // batch: every entry on its own (own transaction, own success or failure), all in flight at once.
  const ahead = await validateAhead(req, ctx, batchEntries(raw), new Map());
  const responses = await Promise.all(
    raw.map(async (value, i): Promise<StoreResponse> => {
      try {
        const e = parseEntry(value, i);
        const sub = entryRequest(req, ctx, e, e.url);
        if (sub.path.length === 0)
          throw badRequest(`${describe(e)}: a Bundle cannot contain a batch or transaction`);
        takeAhead(sub, ahead?.[i]);
        return await dispatch(sub, ctx);
      } catch (err) {
        return errorResponse(err, ctx.log);
      }
    }),
  );
  const fullUrls = responses.map((r, i) => {
    const d = r.disclosed?.[0];
    const method =
      isJsonObject(raw[i]) && isJsonObject(raw[i].request) ? raw[i].request.method : undefined;
    return d === undefined || method === 'GET' ? undefined : `${ctx.baseUrl}/${d.type}/${d.id}`;
  });
  return assemble('batch-response', responses, fullUrls);
}

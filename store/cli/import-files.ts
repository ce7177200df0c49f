import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../fhir/json.js';
import { isFhirError } from '../fhir/outcome.js';
import { errorResponse } from '../http/errors.js';
import type { StoreRequest, StoreResponse } from '../http/types.js';
import type { Store } from '../create-store.js';
import { streamTopLevel } from './json-tokens.js';

/**
 * `hearth import`: transaction and batch Bundles go through the store exactly as a POST to the base
 * would; collection Bundles, single resources and NDJSON lines are upserts that keep each resource's
 * id (PUT [type]/[id]; a resource without id is created). Everything is streamed and goes through the
 * store's own write path (validation, history, indexing).
 */

export interface ImportSummary {
  created: number;
  updated: number;
  failed: number;
}

export interface ImportHooks {
  /** Bytes read so far (for a progress bar). */
  onBytes?(n: number): void;
  /** One failure, located (`file:line` or `file: Bundle.entry[3]`). */
  onError?(where: string, message: string): void;
}

/** Upserts in flight at once: enough for group commit to share fsyncs, bounded memory. */
const IN_FLIGHT = 64;

function message(res: StoreResponse): string {
  if (typeof res.body === 'string' && res.body.startsWith('{"resourceType":"OperationOutcome"')) {
    const oo = JSON.parse(res.body) as { issue?: { diagnostics?: string; code?: string }[] };
    return (oo.issue ?? []).map((i) => i.diagnostics ?? i.code ?? '').join('; ');
  }
  return `HTTP ${res.status}`;
}

class Importer {
  readonly summary: ImportSummary = { created: 0, updated: 0, failed: 0 };
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly hooks: ImportHooks,
  ) {}

  private request(method: string, path: string[], parsed: JsonValue): StoreRequest {
    return {
      method,
      path,
      query: new URLSearchParams(),
      headers: { prefer: 'return=minimal', 'content-type': 'application/fhir+json' },
      parsed,
      requestId: 'hearth-import',
      trusted: false,
    };
  }

  fail(where: string, msg: string): void {
    this.summary.failed++;
    this.hooks.onError?.(where, msg);
  }

  private async dispatch(req: StoreRequest): Promise<StoreResponse> {
    try {
      return await this.store.dispatch(req);
    } catch (err) {
      if (!isFhirError(err)) this.store.context.log.debug({ err }, 'import entry failed');
      return errorResponse(err, this.store.context.log);
    }
  }

  /** Queues one upsert, keeping at most IN_FLIGHT running. */
  async upsert(resource: JsonValue, where: string): Promise<void> {
    if (!isJsonObject(resource) || typeof resource.resourceType !== 'string') {
      this.fail(where, 'not a FHIR resource (a JSON object with resourceType)');
      return;
    }
    const type = resource.resourceType;
    const req =
      typeof resource.id === 'string'
        ? this.request('PUT', [type, resource.id], resource)
        : this.request('POST', [type], resource);
    const job = this.dispatch(req).then((res) => {
      if (res.status === 201) this.summary.created++;
      else if (res.status === 200) this.summary.updated++;
      else this.fail(where, message(res));
    });
    const tracked = job.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    if (this.pending.size >= IN_FLIGHT) await Promise.race(this.pending);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** A transaction or batch Bundle, processed as a POST to the base. */
  async bundle(bundle: JsonObject, where: string): Promise<void> {
    await this.drain();
    const entries = Array.isArray(bundle.entry) ? bundle.entry.length : 0;
    const res = await this.dispatch(this.request('POST', [], bundle));
    if (res.status !== 200 || typeof res.body !== 'string') {
      this.summary.failed += Math.max(entries, 1);
      this.hooks.onError?.(where, message(res));
      return;
    }
    const out = JSON.parse(res.body) as {
      entry?: { response?: { status?: string; outcome?: unknown } }[];
    };
    (out.entry ?? []).forEach((e, i) => {
      const status = (e.response?.status ?? '').split(' ')[0];
      if (status === '201') this.summary.created++;
      else if (status === '200') this.summary.updated++;
      else if (status !== '204') {
        const oo = e.response?.outcome as { issue?: { diagnostics?: string }[] } | undefined;
        this.fail(
          `${where}: Bundle.entry[${i}]`,
          oo?.issue?.[0]?.diagnostics ?? `status ${status ?? '?'}`,
        );
      }
    });
  }
}

function isNdjson(file: string): boolean {
  return /\.(ndjson|jsonl)$/i.test(file);
}

async function importNdjson(file: string, imp: Importer, hooks: ImportHooks): Promise<void> {
  const input = createReadStream(file);
  input.on('data', (chunk) => hooks.onBytes?.(chunk.length));
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let value: JsonValue;
    try {
      value = parseJson(line);
    } catch (err) {
      imp.summary.failed++;
      hooks.onError?.(`${file}:${n}`, err instanceof Error ? err.message : 'malformed JSON');
      continue;
    }
    await imp.upsert(value, `${file}:${n}`);
  }
}

async function importJson(file: string, imp: Importer, hooks: ImportHooks): Promise<void> {
  const members: JsonObject = {};
  const held: JsonValue[] = [];
  let mode: 'unknown' | 'stream' | 'hold' = 'unknown';
  const decide = () => {
    if (members.resourceType !== 'Bundle') return 'hold';
    return members.type === 'transaction' || members.type === 'batch' ? 'hold' : 'stream';
  };
  for await (const item of streamTopLevel(file, (n) => hooks.onBytes?.(n))) {
    if (item.kind === 'member') {
      members[item.key] = item.value;
      continue;
    }
    if (mode === 'unknown') mode = decide();
    if (mode === 'hold') {
      held.push(item.value);
      continue;
    }
    const where = `${file}: Bundle.entry[${item.index}]`;
    const resource = isJsonObject(item.value) ? item.value.resource : undefined;
    if (resource === undefined) imp.fail(where, 'entry has no resource');
    else await imp.upsert(resource, where);
  }
  if (
    members.resourceType === 'Bundle' &&
    (members.type === 'transaction' || members.type === 'batch')
  ) {
    await imp.bundle({ ...members, entry: held }, file);
  } else if (members.resourceType !== 'Bundle') {
    await imp.upsert({ ...members, ...(held.length > 0 ? { entry: held } : {}) }, file);
  }
}

export async function importFiles(
  store: Store,
  files: string[],
  hooks: ImportHooks = {},
): Promise<ImportSummary> {
  const imp = new Importer(store, hooks);
  for (const file of files) {
    statSync(file);
    try {
      if (isNdjson(file)) await importNdjson(file, imp, hooks);
      else await importJson(file, imp, hooks);
    } catch (err) {
      imp.summary.failed++;
      hooks.onError?.(file, err instanceof Error ? err.message : String(err));
    }
    await imp.drain();
  }
  return imp.summary;
}

/** Total size of the files, for the progress bar. */
export function totalBytes(files: string[]): number {
  return files.reduce((sum, f) => sum + statSync(f).size, 0);
}

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The bench's Bulk Data hook: the export rate (a whole-system `$export` from kick-off to the
 * completed manifest) and the import rate (`$import` of that export from kick-off to completion),
 * in resources per second, over the real HTTP path of a running Hearth. The token must be a
 * backend-services token with `system/*.rs` (and write scopes for the import side) and the
 * `fhir-data-exporter` + `fhir-data-importer` roles.
 */

export interface BulkHearth {
  /** FHIR base, e.g. `http://127.0.0.1:8080/fhir`. */
  fhirBase: string;
  /**
   * A current access token for each request: a backend-services token lives 5 minutes, less than
   * a 600-patient import takes, so the bench renews it as a real bulk client would.
   */
  token: () => Promise<string>;
  /** That Hearth's IMPORT_DIR (same machine): the export is written here for `$import`. */
  importDir: string;
}

export interface BulkBenchOptions {
  /** The Hearth to export from (and to import into when `importInto` is absent). */
  source: BulkHearth;
  /**
   * An empty Hearth to import into with InitialLoad; absent: the export goes back into `source`
   * with IncrementalLoad (every resource rewritten at its own version: the idempotent path).
   */
  importInto?: BulkHearth;
  /** Status polling interval (default 200 ms). */
  pollMs?: number;
  /** Give up after this long per job (default 30 minutes). */
  timeoutMs?: number;
}

export interface BulkRate {
  resources: number;
  seconds: number;
  /** resources / seconds. */
  perSecond: number;
}

export interface BulkBenchResult {
  export: BulkRate & { files: number };
  import: BulkRate & { mode: 'InitialLoad' | 'IncrementalLoad'; errors: number };
}

interface Manifest {
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

function rate(resources: number, ms: number): BulkRate {
  const seconds = ms / 1000;
  return { resources, seconds, perSecond: seconds > 0 ? resources / seconds : 0 };
}

async function kickoff(h: BulkHearth, url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(`${h.fhirBase}/${url}`, {
    ...init,
    headers: {
      authorization: `Bearer ${await h.token()}`,
      accept: 'application/fhir+json',
      'content-type': 'application/fhir+json',
      prefer: 'respond-async',
    },
  });
  const status = res.headers.get('content-location');
  if (res.status !== 202 || status === null)
    throw new Error(`${url} kick-off answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return status;
}

async function completed(h: BulkHearth, status: string, o: BulkBenchOptions): Promise<Manifest> {
  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  while (Date.now() < deadline) {
    const res = await fetch(status, { headers: { authorization: `Bearer ${await h.token()}` } });
    if (res.status === 200) return (await res.json()) as Manifest;
    if (res.status !== 202)
      throw new Error(`${status} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer();
    await sleep(o.pollMs ?? 200);
  }
  throw new Error(`${status} did not complete in time`);
}

/** Downloads every output file into `dir` as `bench-<n>-<file>`; returns the $import inputs. */
async function stage(h: BulkHearth, m: Manifest, dir: string) {
  const inputs = [];
  for (const [i, o] of m.output.entries()) {
    const res = await fetch(o.url, { headers: { authorization: `Bearer ${await h.token()}` } });
    if (res.status !== 200) throw new Error(`${o.url} answered ${res.status}`);
    const name = `bench-${i}-${path.basename(new URL(o.url).pathname)}`;
    await writeFile(path.join(dir, name), Buffer.from(await res.arrayBuffer()));
    inputs.push({
      name: 'input',
      part: [
        { name: 'type', valueString: o.type },
        { name: 'url', valueUri: name },
      ],
    });
  }
  return inputs;
}

export async function measureBulk(o: BulkBenchOptions): Promise<BulkBenchResult> {
  const src = o.source;
  const t0 = performance.now();
  const exported = await completed(src, await kickoff(src, '$export'), o);
  const exportMs = performance.now() - t0;
  const resources = exported.output.reduce((n, f) => n + f.count, 0);

  const dst = o.importInto ?? src;
  const mode = o.importInto === undefined ? 'IncrementalLoad' : 'InitialLoad';
  const inputs = await stage(src, exported, dst.importDir);
  const body = JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
      { name: 'mode', valueString: mode },
      ...inputs,
    ],
  });
  const t1 = performance.now();
  const imported = await completed(dst, await kickoff(dst, '$import', { method: 'POST', body }), o);
  const importMs = performance.now() - t1;
  return {
    export: { ...rate(resources, exportMs), files: exported.output.length },
    import: {
      ...rate(
        imported.output.reduce((n, f) => n + f.count, 0),
        importMs,
      ),
      mode,
      errors: imported.error.reduce((n, f) => n + f.count, 0),
    },
  };
}

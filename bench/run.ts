import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import pg from 'pg';
import { storeSocketPath } from '../app/start-store.js';
import { siblingEntry, startChild } from '../common/child-process.js';
import { createLogger } from '../common/logger.js';
import { measureBulk, type BulkBenchResult } from './bulk.js';
import { datasetBundles, discoverTargets, ingest, type Targets } from './dataset.js';
import { projectRoot, startHearthProcess, type HearthInstance } from './hearth-process.js';
import { measureLatency } from './latency.js';
import { LOAD_CORE, runLoad, type LoadSpec } from './load.js';
import { parseOptions, type BenchOptions } from './options.js';
import { PeakRss } from './process-tree.js';
import {
  formatReport,
  TARGETS,
  type BenchReport,
  type EngineSection,
  type SearchRow,
  type ThroughputRow,
  type WorkersRow,
} from './report.js';
import { median } from './stats.js';
import { backendServices, patientGranularToken } from './tokens.js';

/**
 * `npm run bench`: one run that generates (or loads) a dataset, starts Hearth from dist/ as
 * `npm start` does, and measures the whole path against a bare node:http ceiling of the same run.
 */

const log = createLogger('warn', 'bench');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => {
        resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
      });
    });
  });
}

const sample = <T>(xs: readonly T[], n: number): T[] =>
  Array.from(
    { length: Math.min(n, Math.max(xs.length, 1) * 50) },
    (_v, i) => xs[(i * 7919) % xs.length],
  ).filter((x): x is T => x !== undefined);

interface Config {
  id: string;
  label: string;
  spec: () => Promise<LoadSpec>;
}

async function throughput(configs: Config[], o: BenchOptions): Promise<ThroughputRow[]> {
  const runs = new Map<string, ThroughputRow['runs']>(configs.map((c) => [c.id, []]));
  for (const c of configs) {
    process.stderr.write(`  warm-up ${c.id}\n`);
    await runLoad({ ...(await c.spec()), durationSeconds: 1 });
  }
  for (let r = 1; r <= o.rounds; r++) {
    for (const c of configs) {
      process.stderr.write(`  round ${r}/${o.rounds} ${c.id}\n`);
      const res = await runLoad({ ...(await c.spec()), durationSeconds: o.durationSeconds });
      runs.get(c.id)?.push(res);
    }
  }
  const rows = configs.map((c): ThroughputRow => {
    const rs = runs.get(c.id) ?? [];
    return {
      id: c.id,
      label: c.label,
      runs: rs,
      median: {
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
      },
      ratioToCeiling: 0,
    };
  });
  const ceiling = rows.find((r) => r.id === 'ceiling')?.median.rps ?? Number.NaN;
  for (const row of rows) row.ratioToCeiling = row.median.rps / ceiling;
  return rows;
}

function searchMix(fhirBase: string, t: Targets, patientLabQuery: string) {
  const enc = encodeURIComponent;
  const pc = t.patientCodes;
  const years = t.years.length > 0 ? t.years : ['2024'];
  return [
    {
      id: 'patient-code',
      label: 'patient + code',
      urls: pc.map(
        (x) => `${fhirBase}/Observation?patient=Patient/${x.patient}&code=${enc(x.code)}`,
      ),
      token: 'system' as const,
    },
    {
      id: 'date-range',
      label: 'date range (one quarter)',
      urls: years.flatMap((y) =>
        ['01', '04', '07', '10'].map(
          (m, i) =>
            `${fhirBase}/Observation?date=ge${y}-${m}-01&date=lt${i === 3 ? `${Number(y) + 1}-01` : `${y}-${['04', '07', '10'][i] ?? '01'}`}-01`,
        ),
      ),
      token: 'system' as const,
    },
    {
      id: 'chain',
      label: 'chain (Observation?patient.family=)',
      urls: t.families.map((f) => `${fhirBase}/Observation?patient.family=${enc(f)}`),
      token: 'system' as const,
    },
    {
      id: 'has',
      label: '_has (Patient?_has:Observation:patient:code=)',
      urls: t.observationCodes.map(
        (c) => `${fhirBase}/Patient?_has:Observation:patient:code=${enc(c)}`,
      ),
      token: 'system' as const,
    },
    {
      id: 'include',
      label: '_include (Observation:patient)',
      urls: t.patientIds.map(
        (p) => `${fhirBase}/Observation?patient=Patient/${p}&_include=Observation:patient`,
      ),
      token: 'system' as const,
    },
    {
      id: 'patient-scoped',
      label: 'patient-scoped (granular lab token)',
      urls: [`${fhirBase}/${patientLabQuery}`],
      token: 'patient' as const,
    },
  ];
}

interface EngineContext {
  o: BenchOptions;
  hello: string;
  ports: [number, number];
}

/** A fresh PostgreSQL schema for one run, and a way to drop it (with the auth and audit schemas). */
async function postgresSchema(url: string): Promise<{ storeUrl: string; drop(): Promise<void> }> {
  const schema = `hearth_bench_${Date.now().toString(36)}`;
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.end();
  return {
    storeUrl: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ nspname: string }>(
          'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
          [`${schema}%`],
        );
        for (const r of rows) await c.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

const BULK_SCOPE = 'system/*.cruds';
const BULK_ROLES = ['fhir-data-exporter', 'fhir-data-importer', 'fhir-data-writer'];

/**
 * Bulk Data rates: a whole-system `$export` of the loaded Hearth, then `$import` (InitialLoad) of
 * that export into an empty Hearth on the same engine, both through the real HTTP path.
 */
async function bulkRates(
  engine: 'sqlite' | 'postgres',
  env: Record<string, string>,
  x: EngineContext,
): Promise<BulkBenchResult> {
  process.stderr.write(`bench[${engine}]: bulk export and import\n`);
  const [portA, portB] = x.ports;
  const dataDirC = await mkdtemp(path.join(os.tmpdir(), `hearth-bench-${engine}-import-`));
  const pgC = engine === 'postgres' ? await postgresSchema(x.o.postgresUrl) : undefined;
  const envC: Record<string, string> = {
    ...env,
    PUBLIC_URL: `http://127.0.0.1:${portB}`,
    DATA_DIR: dataDirC,
    IMPORT_DIR: path.join(dataDirC, 'import'),
    ...(pgC === undefined ? {} : { STORE_URL: pgC.storeUrl }),
  };
  const importDir = env.IMPORT_DIR ?? '';
  await mkdir(importDir, { recursive: true });
  await mkdir(envC.IMPORT_DIR ?? '', { recursive: true });
  const a = await startHearthProcess('main', env, portA, log);
  try {
    const c = await startHearthProcess('main', envC, portB, log);
    try {
      const tokenA = await backendServices(a.listenUrl, env, BULK_SCOPE, BULK_ROLES);
      const tokenC = await backendServices(c.listenUrl, envC, BULK_SCOPE, BULK_ROLES);
      return await measureBulk({
        source: { fhirBase: `${a.listenUrl}/fhir`, token: await tokenA(), importDir },
        importInto: {
          fhirBase: `${c.listenUrl}/fhir`,
          token: await tokenC(),
          importDir: envC.IMPORT_DIR ?? '',
        },
      });
    } finally {
      await c.stop();
    }
  } finally {
    await a.stop();
    await rm(dataDirC, { recursive: true, force: true });
    await pgC?.drop().catch(() => undefined);
  }
}

/** One engine, measured end to end on its own fresh copy of the dataset. */
async function benchEngine(
  engine: 'sqlite' | 'postgres',
  x: EngineContext,
): Promise<EngineSection> {
  const { o } = x;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `hearth-bench-${engine}-`));
  const dataDirB = `${dataDir}-unaudited`;
  const [portA, portB] = x.ports;
  const baseUrl = `http://127.0.0.1:${portA}`;
  const fhirBase = `${baseUrl}/fhir`;
  const pgSchema = engine === 'postgres' ? await postgresSchema(o.postgresUrl) : undefined;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    IMPORT_DIR: path.join(dataDir, 'import'),
    ...(pgSchema === undefined ? {} : { STORE_URL: pgSchema.storeUrl }),
    ...(o.profileDir === undefined ? {} : { HEARTH_CPU_PROF_DIR: path.resolve(o.profileDir) }),
  };
  const stops: (() => Promise<void>)[] = [];
  let current: HearthInstance | undefined;
  const rss = new PeakRss(() => current?.pid);
  try {
    process.stderr.write(`bench[${engine}]: DATA_DIR ${dataDir}, Hearth on ${baseUrl}\n`);
    current = await startHearthProcess('main', env, portA, log);
    const fresh = current;
    stops.push(() => fresh.stop());
    const coldStartFreshMs = current.coldStartMs;
    const systemToken = await backendServices(baseUrl, env, 'system/*.cruds', [
      'fhir-data-contributor',
    ]);

    process.stderr.write(`bench[${engine}]: ingest\n`);
    const source = o.data === undefined ? { patients: o.patients } : { dir: o.data };
    const ingested = await ingest(
      fhirBase,
      systemToken,
      datasetBundles(source) as AsyncIterable<Bundle>,
      o.ingestConcurrency,
    );
    const auth = async (): Promise<Record<string, string>> => ({
      authorization: `Bearer ${await systemToken()}`,
      accept: 'application/fhir+json',
    });
    const targets = await discoverTargets(fhirBase, await auth(), o.quick ? 3 : 20);

    process.stderr.write(
      `bench[${engine}]: patient sign-in (authorization code, granular consent)\n`,
    );
    const patientId = targets.patientCodes[0]?.patient ?? targets.patientIds[0] ?? '';
    const patient = await patientGranularToken(baseUrl, env, patientId);
    const patientHeaders = {
      authorization: `Bearer ${patient.token}`,
      accept: 'application/fhir+json',
    };
    const patientLabQuery = 'Observation?category=laboratory';
    const labs = await fetch(`${fhirBase}/${patientLabQuery}&_count=200&_elements=id`, {
      headers: patientHeaders,
    });
    if (!labs.ok) throw new Error(`patient-token search answered ${labs.status}`);
    const labIds = ((await labs.json()) as Bundle<Observation>).entry
      ?.map((e) => e.resource?.id)
      .filter((id): id is string => id !== undefined);
    const patientPaths =
      labIds !== undefined && labIds.length > 0
        ? labIds.map((id) => `/fhir/Observation/${id}`)
        : [`/fhir/Patient/${patientId}`];

    // Restart: the cold start with data (and, on SQLite, a copy of DATA_DIR for the unaudited instance).
    await current.stop();
    current = undefined;
    const unaudited = engine === 'sqlite';
    if (unaudited)
      await cp(dataDir, dataDirB, { recursive: true, filter: (src) => !src.endsWith('.sock') });
    current = await startHearthProcess('main', env, portA, log);
    const coldStartMs = current.coldStartMs;
    const a = current;
    stops.push(() => a.stop());
    if (unaudited) {
      const b = await startHearthProcess('unaudited', { ...env, DATA_DIR: dataDirB }, portB, log);
      stops.push(() => b.stop());
    }

    const rng = sample(targets.patientIds, 4096);
    const patientReadPaths = rng.map((id) => `/fhir/Patient/${id}`);
    const c = o.connections;
    const gatewayRead = (url: string) => async (): Promise<LoadSpec> => ({
      url,
      paths: patientReadPaths,
      headers: await auth(),
      connections: c,
      durationSeconds: 1,
    });
    const configs: Config[] = [
      {
        id: 'ceiling',
        label: 'ceiling: bare node:http hello',
        spec: () => Promise.resolve({ url: x.hello, connections: c, durationSeconds: 1 }),
      },
      {
        id: 'store-direct',
        label: 'store direct: Patient read by id',
        spec: () =>
          Promise.resolve({
            url: 'http://localhost',
            socketPath: storeSocketPath(dataDir),
            paths: patientReadPaths,
            headers: { accept: 'application/fhir+json' },
            connections: c,
            durationSeconds: 1,
          }),
      },
      {
        id: 'gateway-system',
        label: 'gateway, system token: Patient read',
        spec: gatewayRead(baseUrl),
      },
      {
        id: 'gateway-patient',
        label: 'gateway, patient granular token: lab Obs read',
        spec: () =>
          Promise.resolve({
            url: baseUrl,
            paths: patientPaths,
            headers: patientHeaders,
            connections: c,
            durationSeconds: 1,
          }),
      },
      ...(unaudited
        ? [
            {
              id: 'gateway-system-unaudited',
              label: 'gateway, system token, audit off: Patient read',
              spec: gatewayRead(`http://127.0.0.1:${portB}`),
            },
          ]
        : []),
    ];
    process.stderr.write(`bench[${engine}]: throughput\n`);
    const rows = await throughput(configs, o);

    process.stderr.write(`bench[${engine}]: search mix\n`);
    const search: SearchRow[] = [];
    for (const q of searchMix(fhirBase, targets, patientLabQuery)) {
      const urls = sample(q.urls, 512);
      const headers = q.token === 'patient' ? patientHeaders : await auth();
      const res = await measureLatency(urls, headers, {
        requests: o.searchRequests,
        concurrency: 1,
        warmup: Math.min(20, o.searchRequests),
      });
      search.push({ id: q.id, label: q.label, example: urls[0] ?? '', ...res });
    }
    rss.sample();
    rss.stop();
    const peakRssBytes = rss.peakBytes;
    const peakRssProcesses = rss.atPeak;
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    current = undefined;

    // WORKERS sweep: the same gateway read with n gateway/auth and n store processes.
    const workers: WorkersRow[] = [];
    const ceiling = rows.find((r) => r.id === 'ceiling')?.median.rps ?? Number.NaN;
    for (const n of o.workers) {
      process.stderr.write(`bench[${engine}]: WORKERS=${n}\n`);
      const w = await startHearthProcess('main', { ...env, WORKERS: String(n) }, portA, log);
      try {
        const [row] = await throughput(
          [{ id: `workers-${n}`, label: `WORKERS=${n}`, spec: gatewayRead(baseUrl) }],
          o,
        );
        if (row !== undefined)
          workers.push({
            workers: n,
            median: row.median,
            runs: row.runs,
            ratioToCeiling: row.median.rps / ceiling,
          });
      } finally {
        await w.stop();
      }
    }

    const bulk = o.bulk ? await bulkRates(engine, env, x) : null;

    const byId = (id: string): number => rows.find((r) => r.id === id)?.median.rps ?? Number.NaN;
    return {
      engine,
      storeUrl: pgSchema === undefined ? null : pgSchema.storeUrl,
      resources: ingested.resources,
      throughput: rows,
      ratios: {
        gatewayToCeiling: byId('gateway-system') / byId('ceiling'),
        patientGatewayToCeiling: byId('gateway-patient') / byId('ceiling'),
        gatewayToStore: byId('gateway-system') / byId('store-direct'),
        auditedToUnaudited: unaudited
          ? byId('gateway-system') / byId('gateway-system-unaudited')
          : null,
      },
      search,
      ingest: ingested,
      coldStartMs,
      coldStartFreshMs,
      peakRssBytes,
      peakRssProcesses,
      workers,
      bulk,
    };
  } finally {
    rss.stop();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await rm(dataDirB, { recursive: true, force: true });
    await pgSchema?.drop().catch((err: unknown) => {
      process.stderr.write(`bench: could not drop the PostgreSQL schema: ${String(err)}\n`);
    });
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg();
  if (o.profileDir !== undefined) await mkdir(o.profileDir, { recursive: true });
  const hello = await startChild(siblingEntry(import.meta.url, './hello-server'), process.env, log);
  try {
    const ports: [number, number] = [await freePort(), await freePort()];
    const engines: EngineSection[] = [];
    for (const engine of o.engines)
      engines.push(await benchEngine(engine, { o, hello: hello.ready.address ?? '', ports }));
    const report: BenchReport = {
      schema: 'hearth-bench/2',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        loadCore: LOAD_CORE,
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: os.loadavg(),
      },
      options: { ...o },
      dataset: {
        patients: o.data === undefined ? o.patients : null,
        dir: o.data ?? null,
      },
      engines,
      targets: TARGETS,
    };
    const out =
      o.out ??
      path.join(projectRoot, 'bench', 'results', `bench-${startedAt.replace(/[:.]/g, '-')}.json`);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${formatReport(report)}\n\nwrote ${out}\n`);
  } finally {
    await hello.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});

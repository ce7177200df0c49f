import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { Logger } from '../common/logger.js';
import { storeSocketPath } from '../app/start-store.js';
import { bulkRates } from './bulk-rates.js';
import { datasetBundles, discoverTargets, ingest, prepareBundles } from './dataset.js';
import { startHearthProcess, type HearthInstance } from './hearth-process.js';
import { measureLatency } from './latency.js';
import type { LoadSpec } from './load.js';
import type { BenchOptions } from './options.js';
import { postgresSchema } from './postgres-schema.js';
import {
  PeakRss,
  cpuBetween,
  cpuOf,
  postgresPids,
  treeCpu,
  type CpuSample,
} from './process-tree.js';
import type { EngineSection, IngestCpu, SearchRow, WorkersRow } from './report.js';
import { searchMix } from './search-mix.js';
import { sample, throughput, type Config } from './throughput.js';
import { backendServices, patientGranularToken } from './tokens.js';

export interface EngineContext {
  o: BenchOptions;
  hello: string;
  ports: [number, number];
  log: Logger;
}

/** One engine, measured end to end on its own fresh copy of the dataset. */
export async function benchEngine(
  engine: 'sqlite' | 'postgres',
  x: EngineContext,
): Promise<EngineSection> {
  const { o, log } = x;
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
  rss.phase = 'start';
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
    rss.phase = 'ingest';
    const source = o.data === undefined ? { patients: o.patients } : { dir: o.data };
    const prepared = await prepareBundles(datasetBundles(source));
    const hearthPid = current.pid;
    const pgPids = engine === 'postgres' ? postgresPids() : [];
    const cpuBefore = { hearth: treeCpu(hearthPid), postgres: cpuOf(pgPids) };
    const ingested = await ingest(fhirBase, systemToken, prepared, o.ingestConcurrency);
    const ingestCpu = cpuPerResource(cpuBefore, hearthPid, pgPids, ingested.resources);
    prepared.length = 0;
    rss.phase = 'targets';
    const auth = async (): Promise<Record<string, string>> => ({
      authorization: `Bearer ${await systemToken()}`,
      accept: 'application/fhir+json',
    });
    const targets = await discoverTargets(fhirBase, await auth(), o.quick ? 3 : 20);

    process.stderr.write(
      `bench[${engine}]: patient sign-in (authorization code, granular consent)\n`,
    );
    rss.phase = 'sign-in';
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

    rss.phase = 'restart';
    // Restart: the cold start with data. The unaudited instance runs on a copy of DATA_DIR (the
    // databases on SQLite; keys and the rest on PostgreSQL, whose schema both instances share, as
    // the processes of WORKERS=n do) and believes it is PUBLIC_URL too, so the same token works.
    await current.stop();
    current = undefined;
    await cp(dataDir, dataDirB, { recursive: true, filter: (src) => !src.endsWith('.sock') });
    current = await startHearthProcess('main', env, portA, log);
    const coldStartMs = current.coldStartMs;
    const a = current;
    stops.push(() => a.stop());
    const b = await startHearthProcess('unaudited', { ...env, DATA_DIR: dataDirB }, portB, log);
    stops.push(() => b.stop());

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
      {
        id: 'gateway-system-unaudited',
        label: 'gateway, system token, audit off: Patient read',
        spec: gatewayRead(`http://127.0.0.1:${portB}`),
      },
    ];
    process.stderr.write(`bench[${engine}]: throughput\n`);
    rss.phase = 'throughput';
    const rows = await throughput(configs, o);

    process.stderr.write(`bench[${engine}]: search mix\n`);
    rss.phase = 'search';
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
    const peakRssPhase = rss.atPeakPhase;
    const peakPssBytes = rss.peakPssBytes;
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    current = undefined;

    // WORKERS sweep: the same gateway read with n gateway/auth processes, each with its store thread.
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

    const bulk = o.bulk ? await bulkRates(engine, env, x, log) : null;

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
        auditedToUnaudited: byId('gateway-system') / byId('gateway-system-unaudited'),
      },
      search,
      ingest: ingested,
      ingestCpu,
      coldStartMs,
      coldStartFreshMs,
      peakRssBytes,
      peakRssProcesses,
      peakRssPhase,
      peakPssBytes,
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

/** Hearth's (and PostgreSQL's) CPU since `before`, per resource ingested. */
function cpuPerResource(
  before: { hearth: CpuSample; postgres: CpuSample },
  hearthPid: number,
  pgPids: readonly number[],
  resources: number,
): IngestCpu {
  const per = (us: number): number => us / Math.max(1, resources);
  const hearth = cpuBetween(before.hearth, treeCpu(hearthPid));
  return {
    hearthUs: per(hearth.totalUs),
    busiestThreadUs: per(hearth.busiestThreadUs),
    postgresUs:
      pgPids.length === 0 ? null : per(cpuBetween(before.postgres, cpuOf(pgPids)).totalUs),
  };
}

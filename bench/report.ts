import type { LatencyResult } from './latency.js';
import type { LoadResult } from './load.js';
import type { BulkBenchResult } from './bulk.js';
import type { IngestResult } from './dataset.js';
import { round } from './stats.js';

/** The JSON written under bench/results/ and the printed table. */

export interface ThroughputRow {
  id: string;
  label: string;
  runs: LoadResult[];
  median: { rps: number; p50: number; p99: number };
  ratioToCeiling: number;
}

export interface SearchRow extends LatencyResult {
  id: string;
  label: string;
  example: string;
}

export interface WorkersRow {
  workers: number;
  runs: LoadResult[];
  median: { rps: number; p50: number; p99: number };
  ratioToCeiling: number;
}

/** Where an ingest's CPU went, per resource ingested (µs): less noisy than a rate on a shared VM. */
export interface IngestCpu {
  /** Every thread of Hearth's processes. */
  hearthUs: number;
  /** The Hearth thread that used the most (the store thread, which runs the transactions). */
  busiestThreadUs: number;
  /** PostgreSQL's server processes (every `postgres` process on the machine); null on SQLite. */
  postgresUs: number | null;
}

/** Everything measured on one engine (SQLite or PostgreSQL), on its own copy of the dataset. */
export interface EngineSection {
  engine: 'sqlite' | 'postgres';
  /** The STORE_URL used (PostgreSQL: with its throwaway schema); null for the default SQLite. */
  storeUrl: string | null;
  resources: number;
  throughput: ThroughputRow[];
  ratios: {
    gatewayToCeiling: number;
    patientGatewayToCeiling: number;
    gatewayToStore: number;
    auditedToUnaudited: number;
  };
  search: SearchRow[];
  ingest: IngestResult;
  /** CPU (user + system, from /proc) per resource ingested, µs. */
  ingestCpu: IngestCpu;
  coldStartMs: number;
  coldStartFreshMs: number;
  /** Hearth's own processes (PostgreSQL's server processes are not counted). */
  peakRssBytes: number;
  peakRssProcesses: { pid: number; command: string; rssBytes: number }[];
  /**
   * The phase of the run at the RSS peak (start, ingest, targets: the searches that find the
   * measured ids, sign-in, restart: the ingesting process stopping and the next starting,
   * throughput, search).
   */
  peakRssPhase: string;
  /** Peak of the summed PSS: node's shared code counted once, not once per process. */
  peakPssBytes: number;
  /** The system-token gateway read with WORKERS=n (n gateway/auth processes, each with its store thread). */
  workers: WorkersRow[];
  /** `$export` of everything, then `$import` (InitialLoad) into an empty Hearth; null: skipped. */
  bulk: BulkBenchResult | null;
}

export interface BenchReport {
  schema: 'hearth-bench/2';
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    node: string;
    loadCore: number;
    /** `os.loadavg()` (1, 5, 15 min) before and after: a noisy machine shows here. */
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  options: Record<string, unknown>;
  dataset: { patients: number | null; dir: string | null };
  engines: EngineSection[];
  targets: Record<string, string>;
}

export const TARGETS: Record<string, string> = {
  gatewayToCeiling: '≥ 0.25',
  gatewayToStore: '≥ 0.4',
  auditedToUnaudited: '≥ 0.85',
  'search patient+code p95': '< 5 ms',
  'search date range p95': '< 10 ms',
  'search chain / _has p95': '< 25 ms',
  ingest: '≥ 3,000 resources/s (aim 5,000)',
  coldStart: '< 1.5 s',
  peakRss: '< 300 MB at 600 patients',
};

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function formatEngine(r: EngineSection, lines: string[]): void {
  const w = 44;
  lines.push(
    `== ${r.engine === 'sqlite' ? 'SQLite (default)' : 'PostgreSQL'}: ${r.resources} resources`,
  );
  lines.push(
    `${pad('configuration', w)} ${lpad('req/s', 9)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('×ceiling', 8)}  runs (req/s)`,
  );
  const row = (
    label: string,
    runs: LoadResult[],
    m: ThroughputRow['median'],
    ratio: number,
  ): void => {
    const bad = runs.reduce((n, x) => n + x.errors + x.non2xx, 0);
    lines.push(
      `${pad(label, w)} ${lpad(round(m.rps, 0).toString(), 9)} ${lpad(round(m.p50).toString(), 7)} ${lpad(round(m.p99).toString(), 7)} ${lpad(round(ratio, 3).toString(), 8)}  ${runs.map((x) => round(x.rps, 0)).join(' / ')}${bad > 0 ? `  !! ${bad} errors/non-2xx` : ''}`,
    );
  };
  for (const t of r.throughput) row(t.label, t.runs, t.median, t.ratioToCeiling);
  for (const x of r.workers)
    row(`gateway, system token, WORKERS=${x.workers}`, x.runs, x.median, x.ratioToCeiling);
  lines.push('');
  lines.push(
    `ratios: gateway/ceiling ${round(r.ratios.gatewayToCeiling, 3)} (target ${TARGETS.gatewayToCeiling ?? ''}), ` +
      `patient-token gateway/ceiling ${round(r.ratios.patientGatewayToCeiling, 3)}, ` +
      `gateway/store ${round(r.ratios.gatewayToStore, 3)} (target ${TARGETS.gatewayToStore ?? ''}), ` +
      `audited/unaudited ${round(r.ratios.auditedToUnaudited, 3)} (target ${TARGETS.auditedToUnaudited ?? ''})`,
  );
  lines.push('');
  lines.push(
    `${pad('search (through the gateway, 1 in flight)', w)} ${lpad('p50 ms', 7)} ${lpad('p95 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('n', 5)}`,
  );
  for (const s of r.search) {
    lines.push(
      `${pad(s.label, w)} ${lpad(round(s.p50).toString(), 7)} ${lpad(round(s.p95).toString(), 7)} ${lpad(round(s.p99).toString(), 7)} ${lpad(String(s.requests), 5)}${s.failures > 0 ? `  !! ${s.failures} failed` : ''}`,
    );
  }
  lines.push('');
  lines.push(
    `ingest (transaction Bundles over HTTP, everything on): ${round(r.ingest.resourcesPerSecond, 0)} resources/s ` +
      `(${r.ingest.resources} resources in ${r.ingest.bundles} bundles, ${round(r.ingest.seconds, 1)} s, ${r.ingest.failedBundles} failed${r.ingest.firstError === null ? '' : `: ${r.ingest.firstError.slice(0, 120)}`})`,
  );
  const cpu = r.ingestCpu;
  lines.push(
    `  CPU per resource ingested: Hearth ${round(cpu.hearthUs, 0)} µs (busiest thread ${round(cpu.busiestThreadUs, 0)})` +
      (cpu.postgresUs === null ? '' : `, PostgreSQL ${round(cpu.postgresUs, 0)} µs`),
  );
  if (r.bulk !== null)
    lines.push(
      `bulk: $export ${round(r.bulk.export.perSecond, 0)} resources/s (${r.bulk.export.resources} in ${round(r.bulk.export.seconds, 1)} s, ${r.bulk.export.files} files); ` +
        `$import ${r.bulk.import.mode} ${round(r.bulk.import.perSecond, 0)} resources/s (${r.bulk.import.resources} in ${round(r.bulk.import.seconds, 1)} s, ${r.bulk.import.errors} errors)`,
    );
  lines.push(
    `cold start to first 200: ${round(r.coldStartMs, 0)} ms with data (${round(r.coldStartFreshMs, 0)} ms on an empty DATA_DIR)`,
  );
  const mib = (b: number): string => `${round(b / 2 ** 20, 1)} MiB`;
  lines.push(
    `peak RSS, all Hearth processes summed: ${mib(r.peakRssBytes)} during ${r.peakRssPhase} (${r.peakRssProcesses.map((p) => `${p.command} ${mib(p.rssBytes)}`).join(', ')}); summed PSS peak ${mib(r.peakPssBytes)}`,
  );
}

export function formatReport(r: BenchReport): string {
  const lines: string[] = [];
  r.engines.forEach((e, i) => {
    if (i > 0) lines.push('');
    formatEngine(e, lines);
  });
  const cpus = r.machine.cpus;
  const load = Math.max(...r.machine.loadAverageAtStart, ...r.machine.loadAverageAtEnd);
  if (load > cpus)
    lines.push(
      `WARNING: load average ${round(load, 1)} on ${cpus} CPUs: other work competed with this run; compare ratios, not absolute numbers`,
    );
  return lines.join('\n');
}

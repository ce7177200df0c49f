import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench --quick` end to end (from sources under tsx): it starts Hearth, loads a few
 * generated patients, measures every configuration and writes its JSON. Only the shape is checked:
 * targets are never asserted in tests.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Row {
  id: string;
  runs: { rps: number; errors: number; non2xx: number }[];
  median: { rps: number; p50: number; p99: number };
  ratioToCeiling: number;
}

describe('npm run bench --quick', function () {
  this.timeout(600_000);
  let dir: string;
  let report: Record<string, unknown>;
  let stdout: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-test-'));
    const out = path.join(dir, 'result.json');
    stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'bench/run.ts'), '--quick', '--out', out],
        { cwd: root, timeout: 580_000, maxBuffer: 16 * 1024 * 1024 },
        (err, so, se) => {
          if (err !== null) reject(new Error(`bench failed: ${se.slice(-2000)}`));
          else resolve(so);
        },
      );
    });
    report = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const engines = (): Record<string, unknown>[] => report.engines as Record<string, unknown>[];

  it('measures SQLite and PostgreSQL, each on its own copy of the data', () => {
    assert.equal(report.schema, 'hearth-bench/2');
    assert.deepEqual(
      engines().map((e) => e.engine),
      ['sqlite', 'postgres'],
    );
    assert.equal(engines()[0]?.storeUrl, null);
    assert.match(String(engines()[1]?.storeUrl), /^postgres:\/\/.*schema=hearth_bench_/);
  });

  it('measures the ceiling, the store, the gateway with each token and unaudited, at least twice each', () => {
    for (const e of engines()) {
      const rows = e.throughput as Row[];
      assert.deepEqual(
        rows.map((r) => r.id),
        [
          'ceiling',
          'store-direct',
          'gateway-system',
          'gateway-patient',
          'gateway-system-unaudited',
        ],
      );
      for (const r of rows) {
        assert.ok(r.runs.length >= 2, r.id);
        for (const run of r.runs) assert.equal(run.errors + run.non2xx, 0, `${r.id} had failures`);
        assert.ok(
          r.median.rps > 0 && Number.isFinite(r.median.p50) && Number.isFinite(r.median.p99),
        );
        assert.ok(r.ratioToCeiling > 0);
      }
      assert.equal(rows[0]?.ratioToCeiling, 1);
    }
  });

  it('sweeps WORKERS over the gateway read without errors', () => {
    for (const e of engines()) {
      const sweep = e.workers as { workers: number; runs: Row['runs']; ratioToCeiling: number }[];
      assert.deepEqual(
        sweep.map((w) => w.workers),
        [1, 2],
      );
      for (const w of sweep) {
        for (const run of w.runs) assert.equal(run.errors + run.non2xx, 0, `WORKERS=${w.workers}`);
        assert.ok(w.ratioToCeiling > 0);
      }
    }
  });

  it('reports the gateway, store and audit ratios', () => {
    for (const e of engines()) {
      const ratios = e.ratios as Record<string, number>;
      for (const k of [
        'gatewayToCeiling',
        'patientGatewayToCeiling',
        'gatewayToStore',
        'auditedToUnaudited',
      ])
        assert.ok(Number.isFinite(ratios[k]) && (ratios[k] ?? 0) > 0, `${String(e.engine)} ${k}`);
    }
  });

  it('measures p50/p95/p99 of each search of the mix without failures', () => {
    for (const e of engines()) {
      const search = e.search as {
        id: string;
        requests: number;
        failures: number;
        p50: number;
        p95: number;
        p99: number;
      }[];
      assert.deepEqual(
        search.map((s) => s.id),
        ['patient-code', 'date-range', 'chain', 'has', 'include', 'patient-scoped'],
      );
      for (const s of search) {
        assert.equal(s.failures, 0, s.id);
        assert.ok(s.requests > 0 && s.p50 <= s.p95 && s.p95 <= s.p99, s.id);
      }
    }
  });

  it('reports ingest in resources per second, cold start and peak RSS of the Hearth processes', () => {
    for (const e of engines()) {
      const ingest = e.ingest as {
        resources: number;
        resourcesPerSecond: number;
        failedBundles: number;
      };
      assert.ok(ingest.resources > 0 && ingest.resourcesPerSecond > 0);
      assert.equal(ingest.failedBundles, 0);
      // and the CPU it took: Hearth's threads, the busiest of them, PostgreSQL's processes
      const cpu = e.ingestCpu as { hearthUs: number; busiestThreadUs: number; postgresUs: number };
      assert.ok(
        cpu.busiestThreadUs > 0 && cpu.hearthUs >= cpu.busiestThreadUs,
        JSON.stringify(cpu),
      );
      if (e.engine === 'sqlite') assert.equal(cpu.postgresUs, null);
      else assert.ok(cpu.postgresUs > 0, JSON.stringify(cpu));
      assert.ok((e.coldStartMs as number) > 0);
      assert.ok((e.peakRssBytes as number) > 0);
      // one process: the gateway, auth and the store's thread
      const processes = e.peakRssProcesses as { command: string }[];
      assert.ok(
        processes.some((p) => /main\.(js|ts)/.test(p.command)),
        JSON.stringify(processes),
      );
      assert.ok(
        ['start', 'ingest', 'targets', 'sign-in', 'restart', 'throughput', 'search'].includes(
          e.peakRssPhase as string,
        ),
      );
      // node's code is shared with other node processes (the bench's own): PSS counts a share
      assert.ok((e.peakPssBytes as number) > 0);
      assert.ok((e.peakPssBytes as number) < (e.peakRssBytes as number));
    }
  });

  it('prints one table with req/s, p50, p99 and the ratio to the ceiling', () => {
    assert.match(stdout, /configuration\s+req\/s\s+p50 ms\s+p99 ms\s+×ceiling/);
    assert.match(stdout, /^ceiling: bare node:http hello/m);
    assert.match(stdout, /^== SQLite \(default\)/m);
    assert.match(stdout, /^== PostgreSQL/m);
    assert.match(stdout, /^gateway, system token, WORKERS=2/m);
    assert.match(
      stdout,
      /^ {2}CPU per resource ingested: Hearth \d+ µs \(busiest thread \d+\), PostgreSQL \d+ µs$/m,
    );
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addBackendClient, type BackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { isAlive } from '../support/processes.js';

/**
 * Bulk Data with WORKERS=2 (real processes, one DATA_DIR): whichever worker takes a kick-off, a
 * status poll or a cancel, the answer comes from the shared job state, and exactly one process
 * runs the jobs — also after that process is killed with SIGKILL, and after a restart of the whole.
 */

const PATIENTS = 600;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(
  agent: http.Agent,
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<Answer & { reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          reused: req.reusedSocket,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A request answered by the worker with process id `pid`: the cluster hands each connection to
 * one worker, so a keep-alive connection that /health says reached `pid` carries the request.
 */
async function onWorker(
  h: RunningHearth,
  pid: number,
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  for (let i = 0; i < 40; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const health = await send(agent, 'GET', `${h.baseUrl}/health`);
      if ((JSON.parse(health.body) as { worker?: number }).worker !== pid) continue;
      const res = await send(agent, method, url, headers);
      assert.ok(res.reused, 'the request went over the pinned connection');
      return res;
    } finally {
      agent.destroy();
    }
  }
  throw new Error(`no connection reached worker ${pid}`);
}

async function workerPids(h: RunningHearth): Promise<number[]> {
  const pids = new Set<number>();
  for (let i = 0; i < 12 && pids.size < 2; i++) {
    const res = await fetch(`${h.baseUrl}/health`, { headers: { connection: 'close' } });
    pids.add((JSON.parse(await res.text()) as { worker: number }).worker);
  }
  return [...pids];
}

/** The process holding the bulk runner lock, from the kernel's lock table. */
function runnerPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'bulk', 'runner.lock');
  if (!existsSync(file)) return undefined;
  const inode = String(statSync(file).ino);
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] === 'WRITE' && f[5]?.split(':')[2] === inode) return Number(f[4]);
  }
  return undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

interface Manifest {
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}

describe('Bulk Data with WORKERS=2: shared jobs, one runner', function () {
  this.timeout(300_000);
  let hearth: RunningHearth;
  let dataDir: string;
  let exporter: BackendClient;
  let token: string;
  let pids: number[];
  let runner: number;
  let other: number;

  const auth = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    accept: 'application/fhir+json',
    ...extra,
  });
  const kickoff = (pid: number) =>
    onWorker(hearth, pid, 'GET', `${hearth.fhirBase}/$export?_type=Patient`, {
      ...auth({ prefer: 'respond-async' }),
    });
  const jobDir = (status: string) =>
    path.join(dataDir, 'bulk', status.slice(status.lastIndexOf('/') + 1));
  const progressOf = (header: unknown) =>
    Number(/(\d+) resources/.exec(String(header))?.[1] ?? '0');

  /** Downloads every output file: each Patient exactly once, and named once for the audit. */
  async function assertEveryPatientOnce(m: Manifest, status: string): Promise<void> {
    assert.equal(
      m.output.reduce((n, o) => n + o.count, 0),
      PATIENTS,
    );
    const ids: string[] = [];
    for (const o of m.output) {
      const text = await (await fetch(o.url, { headers: auth() })).text();
      const lines = text.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, o.count, o.url);
      for (const l of lines) ids.push((JSON.parse(l) as { id: string }).id);
      const file = path.join(jobDir(status), `${o.url.slice(o.url.lastIndexOf('/') + 1)}.entities`);
      const entities = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      assert.deepEqual(
        entities.map((e) => e.split('/')[1]),
        lines.map((l) => (JSON.parse(l) as { id: string }).id),
        `${file} names each resource of its part once`,
      );
    }
    assert.equal(ids.length, PATIENTS);
    assert.equal(new Set(ids).size, PATIENTS, 'no Patient twice');
  }

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-bulk-workers-'));
    hearth = await startHearth({
      env: {
        DATA_DIR: dataDir,
        WORKERS: '2',
        EXPORT_MAX_RATE: '150',
        EXPORT_FILE_MAX_RESOURCES: '300',
        BULK_MAX_JOBS_PER_CLIENT: '2',
      },
    });
    // About 2 KiB each: parts of 300 are checkpointed mid-way (every 256 KiB).
    const lines = Array.from({ length: PATIENTS }, (_, i) =>
      JSON.stringify({ resourceType: 'Patient', id: `w${i}`, name: [{ text: 'x'.repeat(2000) }] }),
    );
    const file = path.join(dataDir, 'patients.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const imported = await hearth.cli(['import', file, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    exporter = await addBackendClient(hearth, 'system/Patient.rs', ['fhir-data-exporter']);
    token = await exporter.token(hearth);
    pids = await workerPids(hearth);
    assert.equal(pids.length, 2);
    runner = await until('a worker runs the bulk jobs', () => Promise.resolve(runnerPid(dataDir)));
    assert.ok(
      pids.includes(runner),
      `the runner ${runner} is one of the workers ${pids.join(',')}`,
    );
    other = pids.find((p) => p !== runner) ?? 0;
  });
  after(async () => {
    await hearth.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs a job accepted by the other worker once, with status answered by either worker', async () => {
    const res = await kickoff(other);
    assert.equal(res.status, 202, res.body);
    const status = String(res.headers['content-location']);
    let manifest: Manifest | undefined;
    const seen = new Map<number, number>();
    for (let i = 0; manifest === undefined; i++) {
      assert.ok(i < 600, 'the job finished');
      const pid = i % 2 === 0 ? runner : other;
      const poll = await onWorker(hearth, pid, 'GET', status, auth());
      if (poll.status === 200) manifest = JSON.parse(poll.body) as Manifest;
      else {
        assert.equal(poll.status, 202, poll.body);
        assert.match(String(poll.headers['x-progress']), /queued|resources/);
        seen.set(pid, (seen.get(pid) ?? 0) + 1);
        await sleep(100);
      }
    }
    assert.ok((seen.get(runner) ?? 0) > 0 && (seen.get(other) ?? 0) > 0, 'both answered 202');
    for (const pid of pids) {
      const again = await onWorker(hearth, pid, 'GET', status, auth());
      assert.equal(again.status, 200);
      assert.deepEqual(JSON.parse(again.body), manifest, `worker ${pid} has the same manifest`);
    }
    await assertEveryPatientOnce(manifest, status);
  });

  it('counts the per-client limit across workers and cancels a running job from the other worker', async () => {
    const first = await kickoff(runner);
    const second = await kickoff(other);
    assert.equal(first.status, 202, first.body);
    assert.equal(second.status, 202, second.body);
    for (const pid of pids) {
      const over = await kickoff(pid);
      assert.equal(over.status, 429, `worker ${pid}: ${over.body}`);
      assert.ok(Number(over.headers['retry-after']) > 0);
    }
    const [a, b] = [first, second].map((r) => String(r.headers['content-location']));
    assert.ok(a !== undefined && b !== undefined);
    await until('the first job is running', async () => {
      const s = await onWorker(hearth, other, 'GET', a, auth());
      return progressOf(s.headers['x-progress']) > 0 ? true : undefined;
    });
    const del = await onWorker(hearth, other, 'DELETE', a, auth());
    assert.equal(del.status, 202, del.body);
    assert.ok(!existsSync(jobDir(a)), 'the runner stopped the job and deleted it');
    for (const pid of pids)
      assert.equal((await onWorker(hearth, pid, 'GET', a, auth())).status, 404);
    const again = await kickoff(runner);
    assert.equal(again.status, 202, 'a slot is free again after the cancel');
    for (const s of [b, String(again.headers['content-location'])]) {
      const d = await onWorker(hearth, s === b ? runner : other, 'DELETE', s, auth());
      assert.equal(d.status, 202, d.body);
      assert.ok(!existsSync(jobDir(s)));
    }
    await sleep(600);
    assert.ok(!existsSync(jobDir(a)), 'the cancelled job did not come back');
  });

  it('resumes an export on another process after its runner is killed, with every resource once', async () => {
    const res = await kickoff(other);
    assert.equal(res.status, 202, res.body);
    const status = String(res.headers['content-location']);
    await until('the export is a third done', async () => {
      const s = await onWorker(hearth, other, 'GET', status, auth());
      assert.equal(s.status, 202, s.body);
      return progressOf(s.headers['x-progress']) >= PATIENTS / 3 ? true : undefined;
    });
    process.kill(runner, 'SIGKILL');
    await until('the runner is gone', () => Promise.resolve(isAlive(runner) ? undefined : true));
    const next = await until('another process runs the jobs', () =>
      Promise.resolve(runnerPid(dataDir)),
    );
    assert.notEqual(next, runner);
    const manifest = await until('the export completes', async () => {
      const s = await fetch(status, { headers: auth({ connection: 'close' }) });
      const body = await s.text();
      if (s.status === 200) return JSON.parse(body) as Manifest;
      assert.equal(s.status, 202, body);
      return undefined;
    });
    await assertEveryPatientOnce(manifest, status);
    const job = JSON.parse(readFileSync(path.join(jobDir(status), 'job.json'), 'utf8')) as {
      status: string;
      resources: number;
    };
    assert.equal(job.status, 'completed');
    assert.equal(job.resources, PATIENTS);
    await until('the killed worker is replaced', async () => {
      const now = await workerPids(hearth);
      return now.length === 2 && !now.includes(runner) ? true : undefined;
    });
  });

  it('resumes an unfinished export once when the whole of Hearth restarts with WORKERS=2', async () => {
    const res = await kickoff(other);
    assert.equal(res.status, 202, res.body);
    const status = String(res.headers['content-location']);
    await until('the export has begun', async () => {
      const s = await fetch(status, { headers: auth({ connection: 'close' }) });
      await s.arrayBuffer();
      return progressOf(s.headers.get('x-progress')) > 0 ? true : undefined;
    });
    await hearth.stop();
    const stopped = JSON.parse(readFileSync(path.join(jobDir(status), 'job.json'), 'utf8')) as {
      status: string;
    };
    assert.equal(stopped.status, 'in-progress');
    const kept = Object.fromEntries(
      Object.entries(hearth.env).filter(([k]) => k !== 'PORT' && k !== 'PUBLIC_URL'),
    );
    hearth = await startHearth({ env: kept });
    token = await exporter.token(hearth);
    const moved = status.replace(/^https?:\/\/[^/]+/, hearth.baseUrl);
    const manifest = await until('the export completes', async () => {
      const s = await fetch(moved, { headers: auth({ connection: 'close' }) });
      const body = await s.text();
      if (s.status === 200) return JSON.parse(body) as Manifest;
      assert.equal(s.status, 202, body);
      return undefined;
    });
    await assertEveryPatientOnce(manifest, status);
  });
});

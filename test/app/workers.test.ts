import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { storeSocketPath } from '../../app/start-store.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { freshSchema, type TestSchema } from '../support/postgres.js';
import { commandLine, descendants, isAlive } from '../support/processes.js';

/** GET on a connection of its own (so the cluster hands each request to the next worker). */
function getOwnConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      })
      .on('error', reject);
  });
}

async function healthWorker(h: RunningHearth): Promise<number> {
  const res = await getOwnConnection(`${h.baseUrl}/health`);
  assert.equal(res.status, 200, res.body);
  const body = JSON.parse(res.body) as { status: string; worker?: number };
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.worker, 'number');
  return body.worker ?? 0;
}

/** The status of `/fhir/metadata` from a worker's own store, on its socket (undefined: refused). */
function storeStatus(h: RunningHearth, workerPid: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    http
      .get(
        { socketPath: storeSocketPath(h.dataDir, String(workerPid)), path: '/fhir/metadata' },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      )
      .on('error', () => {
        resolve(undefined);
      });
  });
}

async function workerPids(h: RunningHearth, requests = 12): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < requests; i++) pids.add(await healthWorker(h));
  return pids;
}

/** The `worker` labels of the resident-memory series in one scrape of /metrics. */
async function workersInMetrics(h: RunningHearth): Promise<string[]> {
  const res = await getOwnConnection(`${h.baseUrl}/metrics`);
  assert.equal(res.status, 200);
  const re = /^hearth_process_resident_memory_bytes\{worker="(\d+)"\} \d+$/gm;
  return [...res.body.matchAll(re)].map((m) => m[1] ?? '').sort();
}

/** How many audit records have this Hearth activity subtype (and name `what`, when given). */
async function auditCount(auditor: Client, subtype: string, what?: string): Promise<number> {
  const res = await fhir(auditor, 'GET', `AuditEvent?subtype=${subtype}&_count=100`);
  assert.equal(res.status, 200);
  const page = (await res.json()) as {
    entry?: { resource: { entity?: { what?: { display?: string } }[] } }[];
  };
  const entries = page.entry ?? [];
  if (what === undefined) return entries.length;
  return entries.filter((e) => (e.resource.entity ?? []).some((x) => x.what?.display === what))
    .length;
}

interface Client {
  hearth: RunningHearth;
  token: string;
}

async function writer(hearth: RunningHearth): Promise<Client> {
  const c = await addBackendClient(hearth, 'system/Patient.cruds', ['fhir-data-contributor']);
  return { hearth, token: await c.token(hearth) };
}

function fhir(c: Client, method: string, path: string, body?: unknown, headers = {}) {
  return fetch(`${c.hearth.fhirBase}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${c.token}`,
      accept: 'application/fhir+json',
      'content-type': 'application/fhir+json',
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** 24 conditional creates of one Patient, spread over `clients`, all at once: exactly one is created. */
async function raceConditionalCreates(clients: Client[]): Promise<void> {
  const system = 'urn:test:workers';
  const value = randomUUID();
  const patient = { resourceType: 'Patient', identifier: [{ system, value }] };
  const results = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const c = clients[i % clients.length] as Client;
      const res = await fhir(c, 'POST', 'Patient', patient, {
        'if-none-exist': `identifier=${system}|${value}`,
      });
      const body = (await res.json()) as { id?: string };
      return { status: res.status, id: body.id };
    }),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(',')}`);
  assert.equal(statuses.filter((s) => s === 200).length, 23, `statuses: ${statuses.join(',')}`);
  assert.equal(new Set(results.map((r) => r.id)).size, 1, 'every answer names the same Patient');
  const search = await fhir(clients[0] as Client, 'GET', `Patient?identifier=${system}|${value}`);
  assert.equal(((await search.json()) as { total?: number }).total, 1);
}

/** 50 writers that all read version `v` race to write the next: one wins per version. */
async function raceIfMatchUpdates(clients: Client[], rounds: number): Promise<void> {
  const id = `hot-${randomUUID()}`;
  const first = await fhir(clients[0] as Client, 'PUT', `Patient/${id}`, {
    resourceType: 'Patient',
    id,
  });
  assert.equal(first.status, 201);
  for (let v = 1; v <= rounds; v++) {
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async (_, w) => {
        const c = clients[w % clients.length] as Client;
        const res = await fhir(
          c,
          'PUT',
          `Patient/${id}`,
          { resourceType: 'Patient', id, name: [{ family: `v${v}-w${w}` }] },
          { 'if-match': `W/"${v}"`, prefer: 'return=minimal' },
        );
        await res.arrayBuffer();
        return res.status;
      }),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 1, `round ${v}: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 412).length, 49, `round ${v}: ${statuses.join(',')}`);
  }
  const history = await fhir(clients[0] as Client, 'GET', `Patient/${id}/_history`);
  const entries = ((await history.json()) as { entry?: unknown[] }).entry ?? [];
  assert.equal(entries.length, rounds + 1, 'one version per round, plus the first');
}

/** A browser's cookie jar and page loads, each on a connection of its own. */
class Visitor {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  request(
    method: string,
    path: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const payload = form === undefined ? undefined : new URLSearchParams(form).toString();
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      ...(payload === undefined
        ? {}
        : { 'content-type': 'application/x-www-form-urlencoded', origin: this.baseUrl }),
    };
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${path}`,
        { method, headers, agent: false },
        (res) => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = c.split(';');
            const eq = pair.indexOf('=');
            this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
          }
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('WORKERS=2 on SQLite: several processes behind the one port', function () {
  this.timeout(180_000);
  let hearth: RunningHearth;
  let client: Client;
  let auditor: Client;
  before(async () => {
    hearth = await startHearth({ env: { WORKERS: '2' }, args: ['--demo', '3'] });
    client = await writer(hearth);
    const reader = await addBackendClient(hearth, 'system/AuditEvent.rs', ['fhir-audit-reader']);
    auditor = { hearth, token: await reader.token(hearth) };
  });
  after(async () => {
    if (hearth.process.exitCode === null) await hearth.stop();
  });

  it('runs two workers, each with its own store thread, and serves requests from both', async () => {
    const nodes = descendants(hearth.process.pid ?? 0).filter((p) =>
      /\bnode\b/.test(commandLine(p)),
    );
    assert.equal(nodes.filter((p) => commandLine(p).includes('store/main')).length, 0);
    assert.equal(nodes.filter((p) => commandLine(p).includes('main.ts')).length, 2);
    const workers = await workerPids(hearth);
    assert.equal(workers.size, 2);
    for (const pid of workers) assert.equal(await storeStatus(hearth, pid), 200, `worker ${pid}`);
  });

  it('seeds the demo (--demo) once, in the primary, before the workers start', async () => {
    const count = await fhir(client, 'GET', 'Patient?_summary=count');
    assert.equal(((await count.json()) as { total?: number }).total, 3);
    assert.equal(await auditCount(auditor, 'demo-seed'), 1, 'one demo-seed audit record');
  });

  it('answers /metrics from any worker with every worker’s series, labelled by worker', async () => {
    for (let i = 0; i < 2; i++) assert.deepEqual(await workersInMetrics(hearth), ['0', '1']);
  });

  it('audits an account change made with the CLI once, not once per worker', async () => {
    const add = await hearth.cli(
      ['user', 'add', '--username', 'dr.once', '--password-stdin', '--role', 'fhir-smart-user'],
      'a long enough password\n',
    );
    assert.equal(add.code, 0, add.stderr);
    const added = () => auditCount(auditor, 'user-added', 'user:dr.once');
    await waitFor('the change is audited', async () => (await added()) > 0, 15_000);
    // Every worker polls the change feed each second: give the others time to (wrongly) record it.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await added(), 1);
  });

  it('creates exactly one resource from concurrent conditional creates (If-None-Exist)', async () => {
    await raceConditionalCreates([client]);
  });

  it('lets exactly one of 50 concurrent If-Match updates win per version', async () => {
    await raceIfMatchUpdates([client], 2);
  });

  it('shows the signed-in clinician’s patient list from every worker', async () => {
    const created = await fhir(client, 'POST', 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Workersson', given: ['Wanda'] }],
    });
    const { id } = (await created.json()) as { id: string };
    const add = await hearth.cli(
      [
        'user',
        'add',
        '--username',
        'dr.workers',
        '--password-stdin',
        '--fhir-user',
        'Practitioner/w1',
        '--role',
        'fhir-smart-user',
        '--role',
        'fhir-data-reader',
      ],
      'a long enough password\n',
    );
    assert.equal(add.code, 0, add.stderr);
    const browser = new Visitor(hearth.baseUrl);
    const home = await browser.request('GET', '/');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
    assert.ok(csrf !== undefined, 'the sign-in form carries a CSRF token');
    const signIn = await browser.request('POST', '/sign-in', {
      _csrf: csrf,
      username: 'dr.workers',
      password: 'a long enough password',
    });
    assert.equal(signIn.status, 303, signIn.body);
    // Each load lands on the next worker; its patient search must stay inside that worker.
    for (let i = 0; i < 6; i++) {
      const page = await browser.request('GET', '/');
      assert.equal(page.status, 200);
      assert.ok(page.body.includes(`data-patient-id="${id}"`), `load ${i}: no patient listed`);
    }
  });

  it('keeps one intact audit chain written by both workers (hearth audit verify)', async () => {
    const verify = await hearth.cli(['audit', 'verify', '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  it('restarts a worker killed with SIGKILL, answering on the port all along', async () => {
    const before = await workerPids(hearth);
    const victim = [...before][0] ?? 0;
    assert.equal(await storeStatus(hearth, victim), 200);
    process.kill(victim, 'SIGKILL');
    await waitFor('the killed worker is gone', () => Promise.resolve(!isAlive(victim)));
    for (let i = 0; i < 10; i++) assert.notEqual(await healthWorker(hearth), victim);
    await waitFor('a new worker answers', async () => {
      const pids = await workerPids(hearth, 6);
      return pids.size === 2 && !pids.has(victim);
    });
    assert.deepEqual(await workersInMetrics(hearth), ['0', '1']);
    // Its store was a thread of it: nothing answers on that store's socket any more.
    assert.equal(await storeStatus(hearth, victim), undefined);
    await raceConditionalCreates([client]);
  });

  it('stops every worker on SIGTERM', async () => {
    const pid = hearth.process.pid ?? 0;
    const family = descendants(pid);
    assert.ok(family.length >= 2, `only ${family.length} descendants`);
    await hearth.stop();
    assert.equal(hearth.process.exitCode, 0, `exit signal ${hearth.process.signalCode}`);
    await waitFor(
      'no descendant is left',
      () => Promise.resolve(family.every((p) => !isAlive(p))),
      15_000,
    );
  });
});

describe('WORKERS=2 on PostgreSQL, with a second Hearth on the same database', function () {
  this.timeout(180_000);
  let target: TestSchema;
  let hearths: RunningHearth[] = [];
  let clients: Client[];
  before(async () => {
    target = freshSchema();
    const first = await startHearth({ env: { WORKERS: '2', STORE_URL: target.url } });
    hearths = [first];
    // Another DATA_DIR (its own auth and audit), the same store database.
    hearths.push(await startHearth({ env: { STORE_URL: target.url } }));
    clients = await Promise.all(hearths.map((h) => writer(h)));
  });
  after(async () => {
    await Promise.all(hearths.map((h) => h.stop()));
    await target.drop();
  });

  it('creates exactly one resource from concurrent conditional creates through both Hearths', async () => {
    assert.equal((await workerPids(hearths[0] as RunningHearth)).size, 2);
    await raceConditionalCreates(clients);
  });

  it('lets exactly one of 50 concurrent If-Match updates through both Hearths win per version', async () => {
    await raceIfMatchUpdates(clients, 2);
  });
});

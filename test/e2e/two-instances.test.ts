import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { freshSchema, type TestSchema } from '../support/postgres.js';

/** The public address both processes serve behind (a load balancer's); requests go to each directly. */
const PUBLIC_URL = 'http://hearth.test';

interface Registered {
  clientId: string;
  secret: string;
}

/**
 * Two Hearth processes (each with its own DATA_DIR) on one PostgreSQL database: the issue's proof that
 * no auth state is local to a process. Tokens, revocations and CLI registrations made at one count at
 * the other on the next request.
 */
describe('two Hearth instances on one PostgreSQL database', function () {
  this.timeout(240_000);
  let schema: TestSchema;
  let a: RunningHearth;
  let b: RunningHearth;
  let client: Registered;
  const running: RunningHearth[] = [];

  before(async () => {
    schema = freshSchema();
    const env = { STORE_URL: schema.url, PUBLIC_URL };
    // Started at once on an empty database: migrations and first keys must not race.
    const started = await Promise.allSettled([startHearth({ env }), startHearth({ env })]);
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    [a, b] = running as [RunningHearth, RunningHearth];
    const added = await a.cli([
      '--json',
      'client',
      'add',
      '--name',
      'two-instance service',
      '--secret',
      '--grant-type',
      'client_credentials',
      '--scope',
      'system/Patient.cruds',
      '--role',
      'fhir-data-contributor',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const out = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
    client = { clientId: out.client_id, secret: out.client_secret };
  });
  after(async () => {
    await Promise.all(running.map((h) => h.stop()));
    await schema.drop();
  });

  const basic = () =>
    `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;

  async function token(at: RunningHearth): Promise<string> {
    const res = await fetch(`${at.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'system/Patient.cruds',
      }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.access_token !== undefined);
    return body.access_token;
  }

  const fhir = (at: RunningHearth, bearer: string, p: string, init: RequestInit = {}) =>
    fetch(`${at.baseUrl}/fhir/${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${bearer}`,
        accept: 'application/fhir+json',
        'content-type': 'application/fhir+json',
      },
    });

  it('keeps no auth database in either DATA_DIR and both answer /health', async () => {
    for (const h of [a, b]) {
      assert.equal(existsSync(path.join(h.dataDir, 'auth.db')), false);
      const health = await fetch(`${h.baseUrl}/health`);
      assert.equal(health.status, 200, await health.text());
    }
  });

  it('gives a token to a client registered with the CLI against the other instance', async () => {
    const fromB = await token(b);
    const res = await fhir(b, fromB, 'Patient?_count=1');
    assert.equal(res.status, 200);
  });

  it('accepts at one instance a token issued by the other, both ways', async () => {
    const fromA = await token(a);
    const created = await fhir(b, fromA, 'Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Twoinstance' }] }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const id = ((await created.json()) as { id: string }).id;
    const fromB = await token(b);
    const read = await fhir(a, fromB, `Patient/${id}`);
    assert.equal(read.status, 200);
  });

  it('refuses at one instance, on the very next request, a token revoked at the other', async () => {
    const fromB = await token(b);
    assert.equal((await fhir(b, fromB, 'Patient?_count=1')).status, 200);
    assert.equal((await fhir(a, fromB, 'Patient?_count=1')).status, 200);
    const revoked = await fetch(`${a.baseUrl}/auth/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
      body: new URLSearchParams({ token: fromB }),
    });
    assert.equal(revoked.status, 200);
    const atB = await fhir(b, fromB, 'Patient?_count=1');
    assert.equal(atB.status, 401);
    assert.match(atB.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal((await fhir(a, fromB, 'Patient?_count=1')).status, 401);
  });

  it('makes exactly one resource from concurrent conditional creates sent to both instances', async () => {
    const [ta, tb] = [await token(a), await token(b)];
    const mrn = `two-instances-${Date.now()}`;
    const body = JSON.stringify({
      resourceType: 'Patient',
      identifier: [{ system: 'urn:hearth:test', value: mrn }],
    });
    const results = await Promise.all(
      Array.from({ length: 16 }, (_v, i) => {
        const [at, bearer] = i % 2 === 0 ? [a, ta] : [b, tb];
        return fetch(`${at.baseUrl}/fhir/Patient`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${bearer}`,
            accept: 'application/fhir+json',
            'content-type': 'application/fhir+json',
            'if-none-exist': `identifier=urn:hearth:test|${mrn}`,
          },
          body,
        });
      }),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(
      statuses.filter((s) => s === 201),
      [201],
      `one create, the rest found it: ${statuses.join(',')}`,
    );
    assert.ok(
      statuses.every((s) => s === 200 || s === 201),
      statuses.join(','),
    );
    const found = await fhir(b, tb, `Patient?identifier=urn:hearth:test|${mrn}&_total=accurate`);
    assert.equal(((await found.json()) as { total?: number }).total, 1);
  });

  it('keeps one audit chain for both instances, which verifies', async () => {
    const listed = await fetch(`${a.baseUrl}/fhir/Patient?_count=1`, {
      headers: { authorization: `Bearer ${await token(b)}` },
    });
    assert.equal(listed.status, 200);
    const verified = await b.cli(['--json', 'audit', 'verify']);
    assert.equal(verified.code, 0, verified.stderr);
    const report = JSON.parse(verified.stdout) as { ok?: boolean; records?: number };
    assert.equal(report.ok, true, verified.stdout);
    assert.ok((report.records ?? 0) > 20, verified.stdout);
  });

  it('refuses everywhere at once the tokens of a client removed with the CLI at one instance', async () => {
    const fromA = await token(a);
    assert.equal((await fhir(b, fromA, 'Patient?_count=1')).status, 200);
    const removed = await b.cli(['client', 'remove', client.clientId]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await fhir(a, fromA, 'Patient?_count=1')).status, 401);
    assert.equal((await fhir(b, fromA, 'Patient?_count=1')).status, 401);
  });
});

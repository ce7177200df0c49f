import assert from 'node:assert/strict';
import request from 'supertest';
import { AuditTrail } from '../../gateway/audit/trail.js';
import { createGateway, type Gateway } from '../../gateway/create-gateway.js';
import { SMART } from './support/harness.js';
import { startStore } from './support/store-process.js';
import { silentLog, tempDir, testConfig } from './support/temp.js';
import { testKeys, type TestKeys } from './support/tokens.js';

const SECRET = 'store-test-secret';
type Agent = ReturnType<typeof request>;

interface Outcome {
  resourceType: string;
  issue: { code: string }[];
}

/**
 * The compartment rules over HTTP against the real store process: two patients, a token for one of
 * them, and nothing of the other patient comes back, with no difference between "not yours" and
 * "not there".
 */
describe('gateway in front of the real store: compartment leaks', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tempDir>;
  let stop: () => Promise<void>;
  let gw: Gateway;
  let trail: AuditTrail;
  let keys: TestKeys;
  let agent: Agent;
  let mine: string;
  let admin: string;

  const fhir = (token: string) => ({
    get: (url: string) => agent.get(`/fhir/${url}`).set('Authorization', `Bearer ${token}`),
    send: (method: 'post' | 'put' | 'delete', url: string, body?: unknown) => {
      const r = agent[method](`/fhir/${url}`)
        .set('Authorization', `Bearer ${token}`)
        .set('content-type', 'application/fhir+json');
      return body === undefined ? r : r.send(body as object);
    },
  });

  before(async () => {
    t = tempDir();
    const store = await startStore(t.dir, SECRET, 'http://localhost:8080/fhir');
    // Stop it ourselves: StartedChild.stop() waits on an 'exit' listener that startChild removes.
    stop = () =>
      new Promise<void>((resolve) => {
        store.child.child.once('exit', () => {
          resolve();
        });
        store.child.child.kill('SIGTERM');
        setTimeout(() => store.child.child.kill('SIGKILL'), 3000).unref();
      });
    keys = await testKeys();
    trail = new AuditTrail({ dataDir: t.dir, sync: 'normal', log: silentLog });
    gw = createGateway({
      config: testConfig(t.dir),
      log: silentLog,
      auth: { getKey: keys.getKey, isTokenAlive: () => true, smartConfiguration: () => SMART },
      upstream: { socketPath: store.socketPath, isBuiltInStore: true, internalSecret: SECRET },
      audit: trail,
      defaultMetrics: false,
    });
    agent = request(gw.app.callback());
    admin = await keys.mint({
      sub: 'admin',
      fhirUser: 'Practitioner/doc',
      scope: 'user/*.cruds',
      roles: ['fhir-data-contributor'],
    });
    mine = await keys.mint({
      sub: 'pat',
      scope: 'patient/*.cruds',
      patient: 'p1',
      roles: ['fhir-data-writer'],
    });
    const put = (r: { resourceType: string; id: string } & Record<string, unknown>) => ({
      request: { method: 'PUT', url: `${r.resourceType}/${r.id}` },
      resource: r,
    });
    const seed = await fhir(admin).send('post', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        put({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Mine' }] }),
        put({ resourceType: 'Patient', id: 'p2', name: [{ family: 'Theirs' }] }),
        put({ resourceType: 'Practitioner', id: 'doc', name: [{ family: 'Doc' }] }),
        put({
          resourceType: 'Observation',
          id: 'o1',
          status: 'final',
          code: { text: 'mine' },
          subject: { reference: 'Patient/p1' },
        }),
        put({
          resourceType: 'Observation',
          id: 'o2',
          status: 'final',
          code: { text: 'theirs' },
          subject: { reference: 'Patient/p2' },
          performer: [{ reference: 'Practitioner/doc' }],
        }),
        put({
          resourceType: 'Observation',
          id: 'o1b',
          status: 'final',
          code: { text: 'mine too' },
          subject: { reference: 'Patient/p1' },
          performer: [{ reference: 'Practitioner/doc' }],
          hasMember: [{ reference: 'Observation/o2' }],
        }),
        put({
          resourceType: 'Encounter',
          id: 'e2',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: 'Patient/p2' },
        }),
        put({
          resourceType: 'Group',
          id: 'g1',
          type: 'person',
          actual: true,
          member: [
            { entity: { reference: 'Patient/p1' } },
            { entity: { reference: 'Patient/p2' } },
          ],
        }),
      ],
    });
    assert.equal(seed.status, 200, seed.text);
  });
  after(async () => {
    await gw.close();
    await trail.close();
    await stop();
    t.cleanup();
  });

  async function sameAsMissing(res: request.Response, missing: request.Response): Promise<void> {
    assert.equal(res.status, 404, res.text);
    assert.equal(missing.status, 404);
    assert.equal((res.body as Outcome).issue[0]?.code, (missing.body as Outcome).issue[0]?.code);
    await Promise.resolve();
  }

  it("reads the context patient's own data", async () => {
    const res = await fhir(mine).get('Observation/o1');
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as { id: string }).id, 'o1');
  });

  it("answers another patient's Observation exactly like a missing one", async () => {
    await sameAsMissing(
      await fhir(mine).get('Observation/o2'),
      await fhir(mine).get('Observation/nope'),
    );
  });

  it('answers the other Patient exactly like a missing one', async () => {
    await sameAsMissing(await fhir(mine).get('Patient/p2'), await fhir(mine).get('Patient/nope'));
  });

  it("hides the other patient's versions (vread) and history", async () => {
    await sameAsMissing(
      await fhir(mine).get('Observation/o2/_history/1'),
      await fhir(mine).get('Observation/nope/_history/1'),
    );
    const hist = await fhir(mine).get('Observation/o2/_history');
    assert.ok(
      hist.status === 404 ||
        (hist.body as { entry?: unknown[] }).entry === undefined ||
        (hist.body as { entry: unknown[] }).entry.length === 0,
      hist.text,
    );
  });

  it('reads non-compartment types named by the scope', async () => {
    const res = await fhir(mine).get('Practitioner/doc');
    assert.equal(res.status, 200);
  });

  it("refuses to update, move or delete the other patient's data", async () => {
    const steal = await fhir(mine).send('put', 'Observation/o2', {
      resourceType: 'Observation',
      id: 'o2',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p1' },
    });
    assert.ok([403, 404].includes(steal.status), steal.text);
    const move = await fhir(mine).send('put', 'Observation/o1', {
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p2' },
    });
    assert.equal(move.status, 403, move.text);
    const del = await fhir(mine).send('delete', 'Observation/o2');
    const delMissing = await fhir(mine).send('delete', 'Observation/nope');
    assert.equal(del.status, delMissing.status, del.text);
    const still = await fhir(admin).get('Observation/o2');
    assert.equal(
      (still.body as { subject: { reference: string } }).subject.reference,
      'Patient/p2',
    );
  });

  it("refuses to create data in the other patient's compartment", async () => {
    const res = await fhir(mine).send('post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p2' },
    });
    assert.equal(res.status, 403, res.text);
  });

  it('keeps batch entries inside the compartment', async () => {
    const res = await fhir(mine).send('post', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Observation/o1' } },
        { request: { method: 'GET', url: 'Observation/o2' } },
        { request: { method: 'GET', url: 'Patient/p2' } },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const statuses = (res.body as { entry: { response: { status: string } }[] }).entry.map((e) =>
      e.response.status.slice(0, 3),
    );
    assert.deepEqual(statuses, ['200', '404', '404']);
    assert.doesNotMatch(res.text, /theirs|Theirs/);
  });

  it('refuses a whole transaction that reaches into the other compartment', async () => {
    const res = await fhir(mine).send('post', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          request: { method: 'POST', url: 'Observation' },
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'Patient/p1' },
          },
        },
        {
          request: { method: 'POST', url: 'Observation' },
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'Patient/p2' },
          },
        },
      ],
    });
    assert.ok(res.status >= 400 && res.status < 500, res.text);
    assert.doesNotMatch(res.text, /theirs/);
  });

  it("answers $authz for the other patient's resource like a missing one", async () => {
    await sameAsMissing(
      await fhir(mine).get('$authz?method=GET&url=Observation/o2'),
      await fhir(mine).get('$authz?method=GET&url=Observation/nope'),
    );
  });

  it("audits the patient whose data a read disclosed, from the store's report", async () => {
    await fhir(mine).get('Observation/o1').set('X-Request-Id', 'real-store-read');
    const page = await trail.search({
      count: 20,
      offset: 0,
      refs: { patient: [['Patient/p1']], entity: [['Observation/o1']] },
    });
    assert.ok(
      page.events.some((e) =>
        e.entity?.some((x) => x.what?.identifier?.value === 'real-store-read'),
      ),
    );
  });

  describe('searches (store/search applies the constraint in the query)', () => {
    const ids = (res: request.Response): string[] => {
      assert.equal(res.status, 200, res.text);
      const b = res.body as { entry?: { resource: { resourceType: string; id: string } }[] };
      return (b.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    };
    const leaks = (res: request.Response) => {
      assert.doesNotMatch(res.text, /Patient\/p2"|"p2"|theirs|Theirs|"e2"/, res.text);
    };

    it('sees both patients with a clinician token (the leak checks below can fail)', async () => {
      const res = await fhir(admin).get('Observation?_include=Observation:subject');
      assert.ok(ids(res).includes('Observation/o2'));
      assert.throws(() => {
        leaks(res);
      });
    });

    it("searches only the context patient's Observations, total included", async () => {
      const res = await fhir(mine).get('Observation?_total=accurate');
      assert.deepEqual(ids(res), ['Observation/o1', 'Observation/o1b']);
      leaks(res);
    });

    it("does not _include or _revinclude the other patient's data", async () => {
      const inc = await fhir(mine).get(
        'Observation?_include=Observation:has-member&_include=Observation:subject',
      );
      leaks(inc);
      const rev = await fhir(mine).get('Practitioner?_revinclude=Observation:performer');
      assert.ok(!ids(rev).includes('Observation/o2'));
      leaks(rev);
      const iter = await fhir(mine).get(
        'Observation?_include=Observation:performer&_revinclude:iterate=Observation:performer',
      );
      leaks(iter);
    });

    it('does not let chains or _has probe the other patient', async () => {
      assert.deepEqual(ids(await fhir(mine).get('Observation?subject.name=Theirs')), []);
      assert.deepEqual(
        ids(await fhir(mine).get('Practitioner?_has:Observation:performer:subject=Patient/p2')),
        [],
      );
      assert.deepEqual(
        ids(await fhir(mine).get('Patient?_has:Encounter:subject:status=finished')),
        [],
      );
    });

    it('answers a compartment search of the other patient with nothing', async () => {
      const res = await fhir(mine).get('Patient/p2/Observation');
      assert.ok(res.status === 404 || ids(res).length === 0, res.text);
      leaks(res);
    });

    it('keeps $everything inside the compartment', async () => {
      const own = await fhir(mine).get('Patient/p1/$everything');
      assert.equal(own.status, 200, own.text);
      leaks(own);
      const other = await fhir(mine).get('Patient/p2/$everything');
      assert.ok(other.status === 404 || ids(other).length === 0, other.text);
      leaks(other);
    });

    it("does not let conditional operations match the other patient's data", async () => {
      const create = await agent
        .post('/fhir/Observation')
        .set('Authorization', `Bearer ${mine}`)
        .set('content-type', 'application/fhir+json')
        .set('If-None-Exist', '_id=o2')
        .send({
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'new' },
          subject: { reference: 'Patient/p1' },
        });
      assert.equal(create.status, 201, create.text);
      const del = await fhir(mine).send('delete', 'Observation?_id=o2');
      assert.ok(del.status < 300, del.text);
      assert.equal((await fhir(admin).get('Observation/o2')).status, 200);
    });

    it('keeps Group out of reach under patient scopes', async () => {
      assert.equal((await fhir(mine).get('Group/g1')).status, 403);
      const rev = await fhir(mine).get('Patient?_revinclude=Group:member');
      assert.ok(!ids(rev).includes('Group/g1'));
    });

    it('does not honour a paging link minted for another token', async () => {
      const page = await fhir(admin).get('Observation?_count=1');
      const next = (page.body as { link?: { relation: string; url: string }[] }).link?.find(
        (l) => l.relation === 'next',
      )?.url;
      assert.ok(next !== undefined, page.text);
      const res = await agent
        .get(next.replace('http://localhost:8080', ''))
        .set('Authorization', `Bearer ${mine}`);
      if (res.status === 200) leaks(res);
      else assert.ok(res.status >= 400 && res.status < 500, res.text);
    });
  });
});

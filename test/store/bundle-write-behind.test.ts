import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { testStore, withSearch, type TestStore } from './helpers.js';

interface ResponseEntry {
  resource?: Record<string, unknown> & { id: string };
  response: { status: string };
}

const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });

/**
 * A transaction Bundle's inserts are sent without waiting for each (PostgreSQL: the next entry is
 * prepared while the previous one is written; see Repository.writeBehind). What later entries read
 * must still see them, and a failing insert must still fail the whole Bundle.
 */
describeOnEngines(
  'store REST: transaction Bundles whose inserts are written behind',
  function (engine) {
    this.timeout(20_000);
    let t: TestStore;
    before(async () => {
      t = await testStore({}, withSearch(), engine);
    });
    after(async () => {
      await t.close();
    });

    it('lets later entries read and search what earlier ones wrote', async () => {
      const identifier = [{ system: 'urn:test:wb', value: 'w-1' }];
      const res = await t.api.post('/').send(
        transaction([
          {
            resource: { resourceType: 'Patient', id: 'wb-1', name: [{ family: 'Behind' }] },
            request: { method: 'PUT', url: 'Patient/wb-1' },
          },
          {
            fullUrl: 'urn:uuid:2b0c3c1e-4d0a-4c53-9a43-0f6a8a2b5e01',
            resource: { resourceType: 'Patient', identifier },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'behind' },
              subject: { reference: 'Patient/wb-1' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
          { request: { method: 'GET', url: 'Patient/wb-1' } },
          { request: { method: 'GET', url: 'Patient?identifier=urn:test:wb|w-1' } },
          { request: { method: 'GET', url: 'Observation?subject=Patient/wb-1' } },
        ]),
      );
      assert.equal(res.status, 200, res.text);
      const entries = res.body.entry as ResponseEntry[];
      assert.deepEqual(
        entries.map((e) => e.response.status),
        ['201 Created', '201 Created', '201 Created', '200 OK', '200 OK', '200 OK'],
      );
      const [, post, , read, byIdentifier, bySubject] = entries;
      assert.ok(post && read && byIdentifier && bySubject);
      assert.equal(read.resource?.id, 'wb-1');
      const ids = (r: ResponseEntry) =>
        ((r.resource as { entry?: { resource: { id: string } }[] }).entry ?? []).map(
          (e) => e.resource.id,
        );
      assert.deepEqual(ids(byIdentifier), [post.resource?.id]);
      assert.equal(ids(bySubject).length, 1, 'the index rows written with the Observation');
    });

    if (engine.name === 'postgres')
      it('fails the whole Bundle when an insert fails, and writes none of it', async () => {
        await t.engine.run(
          `CREATE OR REPLACE FUNCTION wb_refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN IF NEW.id = 'wb-refused' THEN RAISE EXCEPTION 'wb: refused'; END IF; RETURN NEW; END $$`,
        );
        await t.engine.run(
          'CREATE TRIGGER wb_refuse BEFORE INSERT ON resource FOR EACH ROW EXECUTE FUNCTION wb_refuse()',
        );
        try {
          const entries = ['wb-a', 'wb-refused', 'wb-c'].map((id) => ({
            resource: { resourceType: 'Patient', id },
            request: { method: 'PUT', url: `Patient/${id}` },
          }));
          const res = await t.api
            .post('/')
            .send(transaction([...entries, { request: { method: 'GET', url: 'Patient/wb-a' } }]));
          assert.equal(res.status, 500, res.text);
          assert.equal(res.body.resourceType, 'OperationOutcome');
          assert.doesNotMatch(res.text, /current transaction is aborted/);
          for (const id of ['wb-a', 'wb-refused', 'wb-c'])
            assert.equal((await t.api.get(`/Patient/${id}`)).status, 404, id);
          // the store goes on
          const again = await t.api.post('/').send(transaction(entries.slice(0, 1)));
          assert.equal(again.status, 200, again.text);
        } finally {
          await t.engine.run('DROP TRIGGER wb_refuse ON resource');
        }
      });

    if (engine.name === 'postgres')
      it('writes the inserts of several entries in one statement, each with its own index rows', async () => {
        // a statement-level trigger counts the statements that insert resources
        await t.engine.run('CREATE TABLE wb_statements (n INTEGER NOT NULL)');
        await t.engine.run(
          `CREATE OR REPLACE FUNCTION wb_count() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO wb_statements VALUES (1); RETURN NULL; END $$`,
        );
        await t.engine.run(
          'CREATE TRIGGER wb_count AFTER INSERT ON resource FOR EACH STATEMENT EXECUTE FUNCTION wb_count()',
        );
        try {
          const n = 12;
          const names = Array.from(
            { length: n },
            (_, i) => `Batched${String.fromCharCode(97 + i)}`,
          );
          const res = await t.api.post('/').send(
            transaction(
              names.flatMap((family, i) => [
                {
                  fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
                  resource: { resourceType: 'Patient', name: [{ family }] },
                  request: { method: 'POST', url: 'Patient' },
                },
                {
                  resource: {
                    resourceType: 'Observation',
                    status: 'final',
                    code: { coding: [{ system: 'urn:test:wb', code: family }] },
                    subject: {
                      reference: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
                    },
                  },
                  request: { method: 'POST', url: 'Observation' },
                },
              ]),
            ),
          );
          assert.equal(res.status, 200, res.text);
          const statements = await t.engine.get<{ n: number }>(
            'SELECT count(*) AS n FROM wb_statements',
          );
          assert.ok(
            Number(statements?.n) < 2 * n,
            `${statements?.n} statements inserted ${2 * n} resources`,
          );
          // every resource found by its own index rows, and by no other's
          for (const family of names) {
            const patients = await t.api.get(`/Patient?family=${family}`);
            assert.equal(patients.body.total, 1, family);
            const patientId = patients.body.entry[0].resource.id as string;
            const observations = await t.api.get(`/Observation?code=urn:test:wb|${family}`);
            assert.equal(observations.body.total, 1, family);
            assert.equal(
              observations.body.entry[0].resource.subject.reference,
              `Patient/${patientId}`,
            );
            const bySubject = await t.api.get(`/Observation?subject=Patient/${patientId}`);
            assert.equal(bySubject.body.total, 1, family);
            assert.equal(
              bySubject.body.entry[0].resource.code.coding[0].code,
              family,
              'the reference rows carry the rid of their own Observation',
            );
          }
        } finally {
          await t.engine.run('DROP TRIGGER wb_count ON resource');
          await t.engine.run('DROP TABLE wb_statements');
        }
      });
  },
);

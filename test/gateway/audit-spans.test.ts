import assert from 'node:assert/strict';
import type { AuditEvent } from '@medplum/fhirtypes';
import { canonicalJson } from '../../gateway/audit/canonical-json.js';
import { restAuditEvents, type RestAuditInput } from '../../gateway/audit/events.js';
import { openAuditStore } from '../../gateway/audit/open-audit-store.js';
import { AuditTrail } from '../../gateway/audit/trail.js';
import type { AuditStore } from '../../gateway/audit/audit-store.js';
import { verifyAudit } from '../../gateway/audit/verify.js';
import { places, type Place } from './support/audit-places.js';
import { silentLog } from './support/temp.js';

const SITE = 'http://localhost:8080/fhir';
const principal = {
  sub: 'svc',
  clientId: 'svc',
  fhirUser: undefined,
  patient: undefined,
  scopes: [],
  roles: [],
  exp: 0,
  claims: {},
};

/** One search request disclosing `patients`. */
function searchInput(requestId: string, patients: string[]): RestAuditInput {
  return {
    requestId,
    recorded: new Date(),
    site: SITE,
    interaction: 'search-type',
    action: 'R',
    status: 200,
    principal,
    clientIp: '127.0.0.1',
    method: 'GET',
    url: 'Patient?_has:Observation:patient:code=x',
    isQuery: true,
    entities: patients.map((p) => `Patient/${p}/_history/1`),
    patients,
    customHeaders: { 'x-purpose': 'TREAT' },
  };
}

/** Its AuditEvents (one per patient, all naming the whole page). */
function search(requestId: string, patients: string[]): AuditEvent[] {
  return restAuditEvents(searchInput(requestId, patients));
}

/** The place's audit store and trail (SQLite's store with its writer thread, as Hearth runs it). */
const storeOf = (p: Place): AuditStore =>
  openAuditStore({
    dataDir: p.dir,
    sync: 'normal',
    ...(p.storeUrl === undefined ? { appendThread: true } : { storeUrl: p.storeUrl }),
  });
const trailOf = (p: Place): AuditTrail =>
  new AuditTrail({ dataDir: p.dir, sync: 'normal', log: silentLog, storeUrl: p.storeUrl });

/** What each engine's schema before search-row spans lacked. */
const DROP_SPAN: Record<string, string> = {
  sqlite: 'ALTER TABLE audit_ref DROP COLUMN span; ALTER TABLE audit_ref DROP COLUMN ver',
  postgres:
    'ALTER TABLE audit_ref DROP COLUMN span; ALTER TABLE audit_ref DROP COLUMN ver; UPDATE audit_schema_version SET version = 1',
};

for (const { name, open } of places) {
  const dropSpan = DROP_SPAN[name] ?? '';
  describe(`audit search rows shared by consecutive records (${name})`, () => {
    let t: Place;
    beforeEach(() => {
      t = open();
    });
    afterEach(() => t.cleanup());

    const total = async (store: AuditStore, refs: Record<string, string[][]>) =>
      (await store.search({ count: 100, offset: 0, refs })).total;

    it('keeps one row for a value consecutive records share, and finds every record it covers', async () => {
      const store = storeOf(t);
      try {
        await store.append(search('q1', ['a', 'b', 'c']), undefined);
        await store.append(search('q2', ['b']), undefined);
        await store.append(search('q3', ['a', 'c']), undefined);
        // q1's three events all name the page (a, b, c), q2 names b, q3 names a and c.
        assert.equal(await total(store, { entity: [['Patient/a']] }), 5);
        assert.equal(await total(store, { patient: [['Patient/b']] }), 4);
        assert.equal(await total(store, { entity: [['Patient/c/_history/1']] }), 5);
        assert.equal(await total(store, { patient: [['Patient/a'], ['Patient/c']] }), 5);
        assert.equal(await total(store, { patient: [['Patient/b'], ['Patient/c']] }), 3);
        assert.equal(await total(store, { action: [['R']], subtype: [['search-type']] }), 6);
        const rows = await t.sql(
          "SELECT seq, span FROM audit_ref WHERE param = 'entity+patient' AND value = 'Patient/a' ORDER BY seq",
        );
        // q1 (records 1-3) in one row; q3 (records 5-6) in another: b's search (4) broke the run.
        assert.deepEqual(
          rows.map((r) => [Number(r.seq), Number(r.span)]),
          [
            [1, 2],
            [5, 1],
          ],
        );
        const verified = await verifyAudit(store, []);
        assert.equal(verified.ok, true);
      } finally {
        await store.close();
      }
    });

    it('stores a Patient read as ONE search row for its entity, patient and version, and finds it by each', async () => {
      const store = storeOf(t);
      try {
        await store.append(
          restAuditEvents({
            ...searchInput('read', ['p']),
            interaction: 'read',
            url: 'Patient/p',
            isQuery: false,
          }),
          undefined,
        );
        const rows = await t.sql(
          "SELECT param, value, ver FROM audit_ref WHERE value LIKE 'Patient/%' ORDER BY param",
        );
        assert.deepEqual(rows, [{ param: 'entity+patient', value: 'Patient/p', ver: '1' }]);
        for (const refs of [
          { entity: [['Patient/p']] },
          { entity: [['Patient/p/_history/1']] },
          { patient: [['Patient/p']] },
          { entity: [['Patient/x', 'Patient/p/_history/1']] },
        ]) {
          assert.equal(await total(store, refs), 1, JSON.stringify(refs));
        }
        for (const refs of [
          { entity: [['Patient/p/_history/2']] },
          { patient: [['Patient/q']] },
          { agent: [['Patient/p']] },
        ]) {
          assert.equal(await total(store, refs), 0, JSON.stringify(refs));
        }
      } finally {
        await store.close();
      }
    });

    it("stores a REST request's record as exactly the AuditEvents restAuditEvents builds, each chained", async () => {
      const trail = trailOf(t);
      const input = searchInput('rr', ['a', 'b', 'c']);
      try {
        await trail.record(search('before', ['z']));
        await trail.recordRest(input);
        await trail.recordRest({ ...input, requestId: 'lone', patients: [], entities: [] });
      } finally {
        await trail.close();
      }
      const stored = await t.sql('SELECT seq, event FROM audit_record ORDER BY seq');
      const expected = [
        ...search('before', ['z']),
        ...restAuditEvents(input),
        ...restAuditEvents({ ...input, requestId: 'lone', patients: [], entities: [] }),
      ].map((e, i) => canonicalJson({ ...e, id: String(i + 1) }));
      // Record 1 (recorded before) is there to show the request's events continue the chain.
      assert.deepEqual(
        stored.slice(1).map((r) => r.event),
        expected.slice(1),
      );
      const store = storeOf(t);
      try {
        assert.equal((await verifyAudit(store, [])).ok, true);
        assert.equal(await total(store, { entity: [['Patient/b']] }), 3);
      } finally {
        await store.close();
      }
    });

    it('upgrades a trail written with one search row per record, whose rows keep their meaning', async () => {
      const first = storeOf(t);
      try {
        await first.append(search('old', ['a', 'b']), undefined);
      } finally {
        await first.close();
      }
      // As a trail from before spans: no column, one row per record and value.
      await t.sql(dropSpan);
      await t.sql('DELETE FROM audit_ref');
      await t.sql(
        "INSERT INTO audit_ref (seq, param, value) VALUES (1, 'patient', 'Patient/a'), (2, 'patient', 'Patient/a'), (1, 'patient', 'Patient/b'), (2, 'patient', 'Patient/b'), (1, 'entity', 'Patient/a/_history/1'), (1, 'entity', 'Patient/a')",
      );
      const store = storeOf(t);
      try {
        await store.append(search('new', ['b']), undefined);
        assert.equal(await total(store, { patient: [['Patient/a']] }), 2);
        assert.equal(await total(store, { patient: [['Patient/b']] }), 3);
        assert.equal(await total(store, { entity: [['Patient/b']] }), 1);
        // Old rows kept versioned references whole; new ones keep the version apart.
        assert.equal(await total(store, { entity: [['Patient/a/_history/1']] }), 1);
        assert.equal(await total(store, { entity: [['Patient/a']] }), 1);
        assert.equal(await total(store, { entity: [['Patient/b/_history/1']] }), 1);
        assert.equal(await total(store, { entity: [['Patient/b/_history/2']] }), 0);
      } finally {
        await store.close();
      }
    });
  });
}

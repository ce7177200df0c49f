import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { freshSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';

/**
 * Hearth on STORE_URL=postgres://…: the audit trail lives in the database (`<schema>_audit`), not
 * in DATA_DIR; the server, the admin CLI and `hearth audit verify` all use it.
 */
describe('Hearth end to end with the audit trail in PostgreSQL', function () {
  this.timeout(180_000);
  let target: TestSchema;
  let hearth: RunningHearth;
  let token: string;

  before(async () => {
    target = freshSchema();
    hearth = await startHearth({ env: { STORE_URL: target.url } });
    const client = await addBackendClient(
      hearth,
      'system/*.cruds system/AuditEvent.rs',
      ['fhir-data-contributor', 'fhir-audit-reader'],
      'e2e-pg-audit',
    );
    token = await client.token(hearth);
  });
  after(async () => {
    await hearth.stop();
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${target.schema}_audit" CASCADE`);
    await c.end();
    await target.drop();
  });

  const fhir = (p: string, init: RequestInit = {}) =>
    fetch(`${hearth.fhirBase}/${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/fhir+json',
        'content-type': 'application/fhir+json',
      },
    });

  it('records requests and CLI changes in PostgreSQL, serves them at /fhir/AuditEvent, and verifies', async () => {
    const created = await fhir('Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Audited' }] }),
    });
    assert.equal(created.status, 201);
    const search = await fhir('AuditEvent?subtype=create');
    assert.equal(search.status, 200);
    const bundle = (await search.json()) as { entry?: unknown[] };
    assert.ok((bundle.entry?.length ?? 0) >= 1);
    const cliChange = (await (await fhir('AuditEvent?subtype=client-add')).json()) as {
      entry?: unknown[];
    };
    assert.ok((cliChange.entry?.length ?? 0) >= 1, 'the CLI client registration is audited');
    assert.equal(existsSync(path.join(hearth.dataDir, 'audit.db')), false, 'nothing in DATA_DIR');
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    const n = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${target.schema}_audit".audit_record`,
    );
    await c.end();
    assert.ok(Number(n.rows[0]?.n) >= 3);
    const verify = await hearth.cli(['--json', 'audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);
  });
});

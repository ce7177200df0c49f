import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { openPostgresEngine } from '../../../store/engines/postgres/index.js';
import { startHearth, type RunningHearth } from '../../support/hearth.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';

describe('Hearth with STORE_URL=postgres://…', function () {
  this.timeout(120_000);
  let target: TestSchema;
  let hearth: RunningHearth | undefined;
  before(async () => {
    target = freshSchema();
    hearth = await startHearth({ env: { STORE_URL: target.url } });
  });
  after(async () => {
    await hearth?.stop();
    await target.drop();
  });

  it('serves /health and the FHIR metadata with the store on PostgreSQL, keeping no fhir.db', async () => {
    const base = hearth?.baseUrl ?? '';
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const meta = await fetch(`${base}/fhir/metadata`);
    assert.equal(meta.status, 200);
    assert.equal(
      ((await meta.json()) as { resourceType: string }).resourceType,
      'CapabilityStatement',
    );
    assert.deepEqual(
      readdirSync(hearth?.dataDir ?? '').filter((f) => f.startsWith('fhir.db')),
      [],
    );
    const engine = openPostgresEngine({ url: target.url });
    try {
      const row = await engine.get<{ n: number }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'resource'",
        [target.schema],
      );
      assert.equal(row?.n, 1);
    } finally {
      await engine.close();
    }
  });
});

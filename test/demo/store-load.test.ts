import assert from 'node:assert/strict';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { demoBundles } from '../../demo/index.js';
import { testStore, type TestStore } from '../store/helpers.js';

interface ResponseBundle {
  entry: { response: { status: string; outcome?: unknown } }[];
}

describe('demo data in the built-in store', function () {
  this.timeout(60_000);
  let t: TestStore;
  const bundles: Bundle[] = [...demoBundles({ patients: 2, seed: 'store-load' })];
  before(async () => {
    t = await testStore({ BUNDLE_MAX_ENTRIES: '500' });
  });
  after(() => t.close());

  async function load(): Promise<string[]> {
    const statuses: string[] = [];
    for (const b of bundles) {
      const res = await t.api.post('/').set('content-type', 'application/fhir+json').send(b);
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 2000));
      statuses.push(...(res.body as ResponseBundle).entry.map((e) => e.response.status));
    }
    return statuses;
  }

  it('accepts every generated transaction Bundle (the store validates against R4)', async () => {
    const statuses = await load();
    assert.ok(statuses.length > 200);
    assert.ok(
      statuses.every((s) => s.startsWith('201')),
      [...new Set(statuses)].join(', '),
    );
  });

  it('stores references inside a patient Bundle as Type/id, not urn:uuid', async () => {
    const entry = bundles[1]?.entry?.find((e) => e.resource?.resourceType === 'Observation');
    const patient = bundles[1]?.entry?.[0]?.resource;
    const res = await t.api.get(`/Observation/${entry?.resource?.id ?? ''}`);
    assert.equal(res.status, 200);
    assert.equal((res.body as Observation).subject?.reference, `Patient/${patient?.id ?? ''}`);
  });

  it('loads the same Bundles again as updates, creating nothing new (idempotent seeding)', async () => {
    const statuses = await load();
    assert.ok(
      statuses.every((s) => s.startsWith('200')),
      [...new Set(statuses)].join(', '),
    );
  });
});

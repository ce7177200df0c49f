import assert from 'node:assert/strict';
import request from 'supertest';
import { seed, startHarness, type Harness } from './support/harness.js';
import { PATIENT_CLAIMS } from './support/tokens.js';

/**
 * The bench's "audit off" row (`bench/hearth-unaudited.ts`) is only a fair measure of what audit
 * costs if the switch skips the audit write and nothing else: the same answers, the same refusals.
 */
describe('gateway with unauditedForBench (the bench-only audit-off entry)', () => {
  const harnesses: Harness[] = [];
  after(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
  });

  async function readTwice(unaudited: boolean) {
    const h = await startHarness({ gateway: { unauditedForBench: unaudited } });
    harnesses.push(h);
    seed(h.fhir);
    const agent = request(h.gw.app.callback());
    const token = await h.keys.mint(PATIENT_CLAIMS);
    const own = await agent
      .get('/fhir/Patient/123')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Request-Id', `own-${String(unaudited)}`);
    const other = await agent.get('/fhir/Patient/456').set('Authorization', `Bearer ${token}`);
    const anonymous = await agent.get('/fhir/Patient/123');
    const records = await h.trail.search({
      count: 10,
      offset: 0,
      refs: { entity: [['Patient/123']] },
    });
    return { own, other, anonymous, recorded: records.total };
  }

  it('answers exactly as the audited gateway does, and writes no audit record', async () => {
    const audited = await readTwice(false);
    const unaudited = await readTwice(true);
    assert.equal(audited.recorded, 1);
    assert.equal(unaudited.recorded, 0);
    // Each harness seeds its own store, so only the seeding time differs.
    const withoutMeta = (body: unknown): unknown => ({ ...(body as object), meta: undefined });
    for (const k of ['own', 'other', 'anonymous'] as const) {
      assert.equal(unaudited[k].status, audited[k].status, k);
      assert.deepEqual(withoutMeta(unaudited[k].body), withoutMeta(audited[k].body), k);
    }
    assert.equal(audited.own.status, 200);
    assert.equal(audited.other.status, 404);
    assert.equal(audited.anonymous.status, 401);
  });
});

import assert from 'node:assert/strict';
import request from 'supertest';
import { seed, startHarness } from './support/harness.js';
import { PATIENT_CLAIMS } from './support/tokens.js';

describe('gateway failure modes', () => {
  it('answers 502 when the backend is down and 504 when it is slow', async () => {
    const h = await startHarness({ timeoutMs: 300 });
    try {
      const token = await h.keys.mint(PATIENT_CLAIMS);
      const agent = request(h.gw.app.callback());
      h.fhir.delayMs = 1000;
      const slow = await agent.get('/fhir/Patient/123').set('Authorization', `Bearer ${token}`);
      assert.equal(slow.status, 504);
      assert.equal(slow.body.resourceType, 'OperationOutcome');
      h.fhir.delayMs = 0;
      await h.fhir.close();
      const down = await agent.get('/fhir/Patient/123').set('Authorization', `Bearer ${token}`);
      assert.equal(down.status, 502);
      assert.equal(down.body.issue[0].code, 'transient');
    } finally {
      await h.close();
    }
  });

  it('limits each client with 429 and Retry-After', async () => {
    const h = await startHarness({ gateway: { rateLimit: { burst: 2, perSecond: 0.5 } } });
    try {
      const agent = request(h.gw.app.callback());
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await agent.get('/fhir/metadata')).status);
      const last = await agent.get('/fhir/metadata');
      assert.deepEqual(statuses.slice(0, 2), [200, 200]);
      assert.equal(last.status, 429);
      assert.ok(Number(last.headers['retry-after']) >= 1);
      assert.equal(last.body.issue[0].code, 'throttled');
    } finally {
      await h.close();
    }
  });

  it('withholds the response when the audit cannot be written (no audit, no data)', async () => {
    const h = await startHarness();
    seed(h.fhir);
    try {
      const token = await h.keys.mint(PATIENT_CLAIMS);
      await h.trail.close();
      const res = await request(h.gw.app.callback())
        .get('/fhir/Observation/o1')
        .set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 500);
      assert.doesNotMatch(res.text, /mine/);
    } finally {
      await h.close();
    }
  });
});

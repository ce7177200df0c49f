import assert from 'node:assert/strict';
import type { JWTPayload } from 'jose';
import request from 'supertest';
import { seed, SMART, startHarness, type Harness } from './support/harness.js';
import { PATIENT_CLAIMS } from './support/tokens.js';

/**
 * A read runs on while auth's liveness check is under way, and is answered only once the check
 * has: here the check answers only when the test says so, after the store has been asked.
 */
describe("gateway: a read overlaps the token's liveness check, and waits for its answer", () => {
  let h: Harness;
  let agent: ReturnType<typeof request>;
  /** The checks asked and not answered yet, in order. */
  const pending: { jti: unknown; answer(alive: boolean): void }[] = [];

  before(async () => {
    h = await startHarness({
      gateway: {
        auth: {
          getKey: (...args) => h.keys.getKey(...args),
          isTokenAlive: (c: JWTPayload) =>
            new Promise<boolean>((resolve) => {
              pending.push({ jti: c.jti, answer: resolve });
            }),
          smartConfiguration: () => SMART,
        },
      },
    });
    seed(h.fhir);
    agent = request(h.gw.app.callback());
  });
  after(async () => {
    await h.close();
  });

  /** Waits until `n` checks are pending and the store has had `storeRequests` requests. */
  async function until(n: number, storeRequests: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (pending.length >= n && h.fhir.requests.length >= storeRequests) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(
      `waited for ${n} checks (have ${pending.length}) and ${storeRequests} store requests (have ${h.fhir.requests.length})`,
    );
  }

  const send = (token: string, method: 'get' | 'post' = 'get', path = '/fhir/Observation/o1') => {
    const req =
      method === 'get'
        ? agent.get(path)
        : agent
            .post(path)
            .set('content-type', 'application/fhir+json')
            .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    // supertest sends on `then`: start it now, so the test can act while it is in flight
    return req
      .set('Authorization', `Bearer ${token}`)
      .set('X-Request-Id', `rid-${token.slice(-12)}`)
      .then((r) => r);
  };

  async function eventsOf(requestId: string) {
    const page = await h.trail.search({ count: 200, offset: 0, refs: {} });
    return page.events.filter((e) =>
      e.entity?.some((x) => x.what?.identifier?.value === requestId),
    );
  }

  it('asks the store before the check answers, and answers only after it', async () => {
    const token = await h.keys.mint({ ...PATIENT_CLAIMS, jti: 'live-1' });
    const before = h.fhir.requests.length;
    let done = false;
    const res = send(token).then((r) => {
      done = true;
      return r;
    });
    await until(1, before + 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(done, false, 'answered before the liveness check did');
    pending.shift()?.answer(true);
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(r.body.id, 'o1');
  });

  it("withdraws a read's answer when the check says the token is not alive", async () => {
    const token = await h.keys.mint({ ...PATIENT_CLAIMS, jti: 'dead-1' });
    const before = h.fhir.requests.length;
    const res = send(token);
    await until(1, before + 1);
    pending.shift()?.answer(false);
    const r = await res;
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.doesNotMatch(JSON.stringify(r.body), /"status":"final"|mine/);
    for (const name of ['etag', 'last-modified', 'content-location', 'x-hearth-entities'])
      assert.equal(r.headers[name], undefined, name);
    const events = await eventsOf(`rid-${token.slice(-12)}`);
    assert.equal(events.length, 1);
    const event = events.at(0);
    assert.equal(event?.outcome, '4');
    assert.equal(
      event.entity?.some((x) => /Observation\/o1|Patient\/123/.test(x.what?.reference ?? '')),
      false,
      'a withdrawn answer disclosed nothing',
    );
  });

  it('withdraws an error from the rest of the pipeline too (a missing resource)', async () => {
    const token = await h.keys.mint({ ...PATIENT_CLAIMS, jti: 'dead-2' });
    const before = h.fhir.requests.length;
    const res = send(token, 'get', '/fhir/Observation/nope');
    await until(1, before + 1);
    pending.shift()?.answer(false);
    const r = await res;
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
  });

  const waiting: [string, string, 'get' | 'post', string, Record<string, string>][] = [
    ['a write', 'dead-3', 'post', '/fhir/Observation', { scope: 'patient/*.*' }],
    ['an operation', 'dead-4', 'get', '/fhir/Patient/123/$everything', {}],
  ];
  for (const [what, jti, method, path, claims] of waiting) {
    it(`does not let ${what} reach the store before the check answers`, async () => {
      const token = await h.keys.mint({ ...PATIENT_CLAIMS, ...claims, jti });
      const before = h.fhir.requests.length;
      const res = send(token, method, path);
      await until(1, before);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(h.fhir.requests.length, before, `${what} went on before the check answered`);
      pending.shift()?.answer(false);
      assert.equal((await res).status, 401);
      assert.equal(h.fhir.requests.length, before);
    });
  }
});

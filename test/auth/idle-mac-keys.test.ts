import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa, { type Context } from 'koa';
import { createIdleClock } from '../../launch-ui/middleware/idle-timeout.js';
import { startHarness, type Harness } from './support/harness.js';
import { freshAuthSchema, type TestAuthSchema } from './support/postgres-auth.js';
import { admin } from './support/seed.js';

/** A Koa context for a request carrying `cookie`. */
function koaContext(cookie?: string): Context {
  const req = new IncomingMessage(new Socket());
  if (cookie !== undefined) req.headers.cookie = cookie;
  return new Koa().createContext(req, new ServerResponse(req));
}

describe('launch-UI idle cookie keys, shared by processes on one auth database', function () {
  this.timeout(120_000);
  let schema: TestAuthSchema;
  let a: Harness;
  let b: Harness;

  before(async () => {
    schema = freshAuthSchema();
    a = await startHarness({ STORE_URL: schema.url });
    b = await startHarness({ STORE_URL: schema.url, PUBLIC_URL: a.base });
  });
  after(async () => {
    await b.close();
    await a.close();
    await schema.drop();
  });

  it("ends an idle launch-UI session at every process: each derives the same MAC keys, so one process's idle cookie is verified by another", async () => {
    const [ka] = await a.auth.sessions.macKeys('launch-ui-idle');
    const [kb] = await b.auth.sessions.macKeys('launch-ui-idle');
    assert.ok(ka !== undefined && kb !== undefined);
    assert.ok(ka.equals(kb));
    const [other] = await a.auth.sessions.macKeys('something-else');
    assert.ok(other !== undefined && !other.equals(ka), 'a key per purpose');
    const cookieKeys = await admin(a, (x) =>
      x.sql.all<{ private_jwk: string }>(
        "SELECT private_jwk FROM signing_keys WHERE use = 'cookie'",
      ),
    );
    for (const row of cookieKeys)
      assert.notEqual(ka.toString(), JSON.parse(row.private_jwk) as string, 'derived, not the key');

    // A cookie written at `a` two minutes ago is idle at `b` (limit one minute).
    const minutesAgo = Date.now() - 120_000;
    const at = createIdleClock(
      () => a.auth.sessions.macKeys('launch-ui-idle'),
      60,
      false,
      () => minutesAgo,
    );
    const bt = createIdleClock(() => b.auth.sessions.macKeys('launch-ui-idle'), 60, false);
    const written = koaContext();
    await at.touch(written);
    const cookie = /hearth_ui_active=([^;]+)/.exec(
      [written.res.getHeader('set-cookie')].flat().join('; '),
    )?.[1];
    assert.ok(cookie !== undefined);
    assert.equal(await bt.check(koaContext(`hearth_ui_active=${cookie}`)), 'idle');
    // A forged timestamp with the same MAC is not believed (starts the clock again).
    const forged = cookie.replace(/^\d+/, String(Date.now() - 999_999));
    assert.equal(await bt.check(koaContext(`hearth_ui_active=${forged}`)), 'active');
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProtectedHeader } from 'jose';
import { Browser } from './support/browser.js';
import { authorize, REDIRECT, tokenRequest } from './support/flow.js';
import { describeOnEngines } from '../support/engines.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient, addUser, admin, adminAsync } from './support/seed.js';

const SCOPE = 'openid fhirUser launch/patient patient/*.rs';

describeOnEngines('signing and cookie keys', function (engine) {
  this.timeout(20_000);
  let h: Harness;
  let app: string;

  before(async () => {
    h = await startHarness({}, {}, engine.name);
    await addUser(h, 'clinician', { fhirUser: 'Practitioner/prac-1' });
    app = (await addClient(h)).clientId;
  });
  after(async () => h.close());

  async function tokens(browser = new Browser()) {
    const r = await authorize(h, { clientId: app, scope: SCOPE, browser });
    const t = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: r.code ?? '',
      redirect_uri: REDIRECT,
      code_verifier: r.verifier,
      client_id: app,
    });
    return {
      at: String(t.body['access_token']),
      idToken: String(t.body['id_token']),
      pages: r.pages,
    };
  }

  async function jwksKids(): Promise<string[]> {
    const jwks = (await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    return jwks.keys.map((k) => k.kid);
  }

  it('creates keys on first start in the auth database (auth.db readable by the owner only; none on PostgreSQL)', async () => {
    const file = path.join(h.dataDir, 'auth.db');
    if (engine.name === 'sqlite') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    else assert.equal(fs.existsSync(file), false);
    const rows = await admin(h, (a) =>
      a.sql.all<{ use: string }>('SELECT use FROM signing_keys ORDER BY use'),
    );
    assert.deepEqual(
      rows.map((r) => r.use),
      ['cookie', 'sig'],
    );
  });

  it('signs with the new key after a rotation while the old one stays published and its tokens stay valid', async () => {
    const browser = new Browser();
    const before = await tokens(browser);
    const oldKid = decodeProtectedHeader(before.at).kid;
    const { kid: newKid } = await adminAsync(h, (a) => a.keys.rotate());
    await sleep(1100);
    const after = await tokens(browser);
    assert.equal(decodeProtectedHeader(after.at).kid, newKid);
    assert.equal(decodeProtectedHeader(after.idToken).kid, newKid);
    assert.deepEqual(await jwksKids(), [newKid, oldKid]);
    assert.deepEqual(
      (await h.auth.jwks()).keys.map((k) => k.kid),
      [newKid, oldKid],
    );
    assert.ok(await h.auth.verifyAccessToken(before.at));
    assert.equal(
      (
        await fetch(`${h.fhirBase}/Patient/pat-1`, {
          headers: { authorization: `Bearer ${before.at}` },
        })
      ).status,
      200,
    );
    // The browser session signed with the old cookie key still works: no second sign-in.
    assert.ok(!after.pages.some((p) => p.includes('name="password"')));
  });

  it('stops publishing an old key once its tokens have expired', async () => {
    const kids = await jwksKids();
    await admin(h, (a) =>
      a.sql.run(
        "UPDATE signing_keys SET unpublish_at = 1 WHERE retired_at IS NOT NULL AND use = 'sig'",
      ),
    );
    await sleep(1100);
    assert.deepEqual(await jwksKids(), kids.slice(0, 1));
  });
});

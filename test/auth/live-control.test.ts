import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Browser } from './support/browser.js';
import { authorize, basic, REDIRECT, tokenRequest } from './support/flow.js';
import { describeOnEngines } from '../support/engines.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient, addUser, admin, PASSWORD } from './support/seed.js';

const SCOPE = 'openid fhirUser launch/patient offline_access patient/*.rs';

describeOnEngines('live account, client and token control', function (engine) {
  this.timeout(30_000);
  let h: Harness;
  let app: string;
  let rs: { clientId: string; clientSecret: string | undefined };

  before(async () => {
    h = await startHarness({}, {}, engine.name);
    app = (await addClient(h)).clientId;
    rs = await addClient(h, {
      name: 'resource server',
      authMethod: 'client_secret_basic',
      redirectUris: [],
      grantTypes: ['client_credentials'],
    });
  });
  after(async () => h.close());

  let n = 0;
  async function user(roles = ['fhir-smart-user']): Promise<string> {
    n += 1;
    const name = `user${n}`;
    await addUser(h, name, { fhirUser: `Practitioner/p${n}`, roles });
    return name;
  }

  async function tokens(username: string, clientId = app, browser = new Browser()) {
    const r = await authorize(h, { clientId, scope: SCOPE, username, browser, patient: 'pat-1' });
    assert.ok(r.code, r.errorDescription);
    const t = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: r.code,
      redirect_uri: REDIRECT,
      code_verifier: r.verifier,
      client_id: clientId,
    });
    assert.equal(t.status, 200);
    return {
      at: String(t.body['access_token']),
      rt: String(t.body['refresh_token']),
      body: t.body,
      browser,
    };
  }

  async function fhirRead(at: string): Promise<number> {
    return (
      await fetch(`${h.fhirBase}/Patient/pat-1`, { headers: { authorization: `Bearer ${at}` } })
    ).status;
  }

  async function introspect(
    token: string,
    auth: Record<string, string> = basic(rs.clientId, rs.clientSecret ?? ''),
  ) {
    const res = await fetch(`${h.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...auth,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function revoke(token: string, clientId = app) {
    const res = await fetch(`${h.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: clientId }).toString(),
    });
    return res.status;
  }

  const refresh = (rt: string, clientId = app) =>
    tokenRequest(h, { grant_type: 'refresh_token', refresh_token: rt, client_id: clientId });

  it('accepts a fresh access token at the FHIR endpoint and in isTokenAlive', async () => {
    const t = await tokens(await user());
    assert.equal(await fhirRead(t.at), 200);
    assert.equal(await h.auth.isTokenAlive(decodeJwt(t.at)), true);
  });

  it('refuses the tokens of a disabled user at once, and their refresh', async () => {
    const name = await user();
    const t = await tokens(name);
    await admin(h, async (a) => {
      await a.users.setEnabled(name, false);
    });
    assert.equal(await fhirRead(t.at), 401);
    assert.equal(await h.auth.isTokenAlive(decodeJwt(t.at)), false);
    assert.equal((await introspect(t.at)).body['active'], false);
    const r = await refresh(t.rt);
    assert.equal(r.status, 400);
    assert.equal(r.body['error'], 'invalid_grant');
  });

  it('refuses at once a token the gateway has just accepted when another connection (the CLI) disables its user', async () => {
    const name = await user();
    const t = await tokens(name);
    assert.equal(await fhirRead(t.at), 200);
    assert.equal(await fhirRead(t.at), 200);
    await admin(h, async (a) => {
      await a.users.setEnabled(name, false);
    });
    assert.equal(await fhirRead(t.at), 401);
    await admin(h, async (a) => {
      await a.users.setEnabled(name, true);
    });
    assert.equal(await fhirRead(t.at), 200);
  });

  it('makes a disabled user sign in again despite an existing session', async () => {
    const name = await user();
    const t = await tokens(name);
    await admin(h, async (a) => {
      await a.users.setEnabled(name, false);
    });
    const again = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      username: name,
      browser: t.browser,
    });
    assert.ok(again.pages[0]?.includes('name="password"'));
    assert.equal(again.code, undefined);
  });

  it('refuses the tokens of a removed user at once', async () => {
    const name = await user();
    const t = await tokens(name);
    await admin(h, async (a) => {
      await a.users.remove(name);
    });
    assert.equal(await fhirRead(t.at), 401);
    assert.equal((await refresh(t.rt)).body['error'], 'invalid_grant');
  });

  it('refuses tokens minted under roles that changed, and refreshes into the new roles', async () => {
    const name = await user(['fhir-smart-user', 'fhir-data-reader']);
    const t = await tokens(name);
    await admin(h, async (a) => {
      await a.users.setRoles(name, ['fhir-smart-user']);
    });
    assert.equal(await fhirRead(t.at), 401);
    const r = await refresh(t.rt);
    assert.equal(r.status, 200);
    assert.deepEqual(decodeJwt(String(r.body['access_token']))['roles'], ['fhir-smart-user']);
    assert.equal(await fhirRead(String(r.body['access_token'])), 200);
  });

  it('drops scopes on refresh that the new roles no longer permit', async () => {
    const name = await user(['fhir-smart-user']);
    const t = await tokens(name);
    await admin(h, async (a) => {
      await a.users.setRoles(name, ['fhir-audit-reader']);
    });
    const r = await refresh(t.rt);
    assert.equal(r.status, 200);
    assert.equal(r.body['scope'], 'openid fhirUser launch/patient offline_access');
  });

  it('refuses the tokens of a removed client at once, and its refresh', async () => {
    const doomed = (await addClient(h, { name: 'doomed' })).clientId;
    const t = await tokens(await user(), doomed);
    await admin(h, async (a) => {
      await a.clients.remove(doomed);
    });
    assert.equal(await fhirRead(t.at), 401);
    const r = await refresh(t.rt, doomed);
    assert.equal(r.status, 401);
    assert.equal(r.body['error'], 'invalid_client');
  });

  it('revokes an access token (RFC 7009) without touching the rest of the grant', async () => {
    const t = await tokens(await user());
    assert.equal(await revoke(t.at), 200);
    assert.equal(await fhirRead(t.at), 401);
    assert.equal((await introspect(t.at)).body['active'], false);
    const r = await refresh(t.rt);
    assert.equal(r.status, 200);
    assert.equal(await fhirRead(String(r.body['access_token'])), 200);
  });

  it('revokes a refresh token and with it the grant and its access tokens', async () => {
    const t = await tokens(await user());
    assert.equal(await revoke(t.rt), 200);
    assert.equal((await refresh(t.rt)).body['error'], 'invalid_grant');
    assert.equal(await fhirRead(t.at), 401);
  });

  it("ignores another client's attempt to revoke a token", async () => {
    const t = await tokens(await user());
    const other = (await addClient(h, { name: 'other' })).clientId;
    assert.equal(await revoke(t.at, other), 200);
    assert.equal(await fhirRead(t.at), 200);
  });

  it('introspects an access token for an authenticated resource server with the SMART fields', async () => {
    const name = await user();
    const t = await tokens(name);
    const { status, body } = await introspect(t.at);
    assert.equal(status, 200);
    assert.equal(body['active'], true);
    assert.equal(body['client_id'], app);
    assert.equal(body['scope'], t.body['scope']);
    assert.equal(body['patient'], 'pat-1');
    assert.equal(body['iss'], h.issuer);
    assert.equal(body['sub'], decodeJwt(String(t.body['id_token'])).sub);
    assert.equal(body['fhirUser'], decodeJwt(String(t.body['id_token']))['fhirUser']);
    assert.equal(typeof body['exp'], 'number');
    assert.equal(body['grant'], undefined);
  });

  it('answers 200 active:false for an invalid token', async () => {
    const { status, body } = await introspect('invalid_token_value');
    assert.equal(status, 200);
    assert.deepEqual(body, { active: false });
  });

  it('requires client authentication or a bearer token to introspect', async () => {
    const t = await tokens(await user());
    const { status, body } = await introspect(t.at, {});
    assert.equal(status, 400);
    assert.equal(typeof body['error'], 'string');
  });

  it('accepts a live SMART access token as bearer for introspection of its own tokens', async () => {
    const t = await tokens(await user());
    const own = await introspect(t.at, { authorization: `Bearer ${t.at}` });
    assert.equal(own.body['active'], true);
    const stranger = await tokens(
      await user(),
      (await addClient(h, { name: 'stranger' })).clientId,
    );
    const foreign = await introspect(stranger.at, { authorization: `Bearer ${t.at}` });
    assert.deepEqual(foreign.body, { active: false });
    const bad = await introspect(t.at, { authorization: 'Bearer nope' });
    assert.equal(bad.status, 401);
  });

  it('refuses a backend services token once the client roles change or the client is removed', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
    const { clientId } = await addClient(h, {
      name: 'svc',
      authMethod: 'private_key_jwt',
      redirectUris: [],
      jwks: { keys: [jwk] },
      roles: ['fhir-data-reader'],
    });
    const mint = async () => {
      const a = await new SignJWT({
        iss: clientId,
        sub: clientId,
        aud: `${h.issuer}/token`,
        jti: randomBytes(16).toString('hex'),
        exp: Math.floor(Date.now() / 1000) + 60,
      })
        .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
        .sign(privateKey);
      const t = await tokenRequest(h, {
        grant_type: 'client_credentials',
        scope: 'system/*.rs',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: a,
      });
      return String(t.body['access_token']);
    };
    const first = await mint();
    assert.equal(await fhirRead(first), 200);
    await admin(h, (a) =>
      a.sql.run('UPDATE clients SET roles = \'["fhir-data-contributor"]\' WHERE client_id = ?', [
        clientId,
      ]),
    );
    assert.equal(await fhirRead(first), 401);
    const second = await mint();
    assert.equal(await fhirRead(second), 200);
    await admin(h, async (a) => {
      await a.clients.remove(clientId);
    });
    assert.equal(await fhirRead(second), 401);
  });

  it('throttles repeated failed sign-ins per account', async () => {
    const name = await user();
    for (let i = 0; i < 5; i++) {
      const r = await h.auth.verifyPassword(name, 'wrong password', `10.0.0.${i}`);
      assert.equal(r.ok, false);
    }
    const locked = await h.auth.verifyPassword(name, PASSWORD, '10.0.1.1');
    assert.deepEqual(
      { ok: locked.ok, reason: 'reason' in locked ? locked.reason : undefined },
      { ok: false, reason: 'throttled' },
    );
  });

  it('throttles repeated failed sign-ins per address across accounts', async () => {
    for (let i = 0; i < 20; i++)
      await h.auth.verifyPassword(`nobody${i}`, 'wrong password', '10.9.9.9');
    const name = await user();
    const r = await h.auth.verifyPassword(name, PASSWORD, '10.9.9.9');
    assert.equal(r.ok ? '' : r.reason, 'throttled');
    assert.equal((await h.auth.verifyPassword(name, PASSWORD, '10.9.9.10')).ok, true);
  });

  it('emits sign-in, consent and token events for the audit trail', async () => {
    const seen: string[] = [];
    const names = [
      'signin.success',
      'consent.given',
      'token.issued',
      'token.refreshed',
      'token.revoked',
      'token.introspected',
    ] as const;
    const listeners = names.map((e) => {
      const l = () => seen.push(e);
      h.auth.events.on(e, l);
      return [e, l] as const;
    });
    const t = await tokens(await user());
    await introspect(t.at);
    const r = await refresh(t.rt);
    await revoke(String(r.body['access_token']));
    for (const [e, l] of listeners) h.auth.events.off(e, l);
    assert.deepEqual(seen, [
      'signin.success',
      'consent.given',
      'token.issued',
      'token.introspected',
      'token.refreshed',
      'token.revoked',
    ]);
  });

  it('emits account and client changes made by another process (the CLI) as events', async () => {
    const seen: string[] = [];
    const onAccount = (e: { username: string; change: string }) =>
      seen.push(`${e.username}:${e.change}`);
    const onClient = (e: { clientId: string; change: string }) =>
      seen.push(`${e.clientId}:${e.change}`);
    h.auth.events.on('account.changed', onAccount);
    h.auth.events.on('client.changed', onClient);
    const name = await user();
    await admin(h, async (a) => {
      await a.users.setEnabled(name, false);
      await a.users.setRoles(name, ['fhir-data-reader']);
      await a.users.remove(name);
    });
    const { clientId } = await addClient(h, { name: 'short-lived' });
    await admin(h, async (a) => {
      await a.clients.remove(clientId);
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    h.auth.events.off('account.changed', onAccount);
    h.auth.events.off('client.changed', onClient);
    assert.deepEqual(
      seen.filter((e) => e.startsWith(`${name}:`) || e.startsWith(`${clientId}:`)),
      [
        `${name}:added`,
        `${name}:disabled`,
        `${name}:roles`,
        `${name}:removed`,
        `${clientId}:added`,
        `${clientId}:removed`,
      ],
    );
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import { tokenRequest } from './support/flow.js';
import { describeOnEngines } from '../support/engines.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient } from './support/seed.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface KeyPair {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function keyPair(alg: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomBytes(8).toString('hex');
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

describeOnEngines('backend services (client_credentials + private_key_jwt)', function (engine) {
  this.timeout(20_000);
  let h: Harness;
  let jwksServer: http.Server;
  let jwksUrl: string;
  const keys: Record<string, KeyPair> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    h = await startHarness({}, {}, engine.name);
    for (const alg of ['RS384', 'ES384', 'RS256', 'ES256']) keys[alg] = await keyPair(alg);
    const es384 = keys['ES384'];
    assert.ok(es384);
    jwksServer = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [es384.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    for (const alg of ['RS384', 'RS256', 'ES256']) {
      const k = keys[alg];
      assert.ok(k);
      ids[alg] = (
        await addClient(h, {
          name: `bulk ${alg}`,
          authMethod: 'private_key_jwt',
          redirectUris: [],
          jwks: { keys: [k.publicJwk] },
          roles: ['fhir-data-reader'],
        })
      ).clientId;
    }
    ids['ES384'] = (
      await addClient(h, {
        name: 'bulk uri',
        authMethod: 'private_key_jwt',
        redirectUris: [],
        jwksUri: jwksUrl,
        roles: ['fhir-data-reader'],
      })
    ).clientId;
  });
  after(async () => {
    jwksServer.closeAllConnections();
    await new Promise<void>((resolve) =>
      jwksServer.close(() => {
        resolve();
      }),
    );
    await h.close();
  });

  function key(alg: string): KeyPair {
    const k = keys[alg];
    assert.ok(k);
    return k;
  }

  async function assertion(
    alg: string,
    claims: Record<string, unknown> = {},
    opts: { clientId?: string; key?: KeyPair; expIn?: number } = {},
  ) {
    const k = opts.key ?? key(alg);
    const clientId = opts.clientId ?? ids[alg] ?? '';
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: `${h.issuer}/token`,
      jti: randomBytes(32).toString('hex'),
      exp: now + (opts.expIn ?? 300),
      ...claims,
    })
      .setProtectedHeader({ alg, kid: k.kid, typ: 'JWT' })
      .sign(k.privateKey);
  }

  async function request(fields: Record<string, string>) {
    return tokenRequest(h, {
      grant_type: 'client_credentials',
      scope: 'system/*.rs',
      client_assertion_type: ASSERTION_TYPE,
      ...fields,
    });
  }

  it('issues a five-minute system token to openid-client with an RS384 assertion (keys registered by value)', async () => {
    const k = key('RS384');
    const tokenEndpoint = `${h.issuer}/token`;
    const config = await client.discovery(
      new URL(h.issuer),
      ids['RS384'] ?? '',
      { token_endpoint_auth_signing_alg: 'RS384' },
      client.PrivateKeyJwt(
        { key: k.privateKey, kid: k.kid },
        {
          [client.modifyAssertion]: (_header, payload) => {
            payload.aud = tokenEndpoint;
          },
        },
      ),
      // The test server speaks plain HTTP on loopback.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      { execute: [client.allowInsecureRequests] },
    );
    const tokens = await client.clientCredentialsGrant(config, {
      scope: 'system/Observation.rs system/Patient.read',
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'system/Observation.rs system/Patient.read');
    assert.ok((tokens.expires_in ?? 0) <= 300 && (tokens.expires_in ?? 0) > 0);
    assert.equal(tokens.refresh_token, undefined);
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.sub, ids['RS384']);
    assert.equal(claims['client_id'], ids['RS384']);
    assert.equal(claims.aud, h.fhirBase);
    assert.deepEqual(claims['roles'], ['fhir-data-reader']);
    assert.ok((claims.exp ?? 0) - (claims.iat ?? 0) <= 300);
    assert.ok(await h.auth.verifyAccessToken(tokens.access_token));
  });

  it('accepts ES384 with keys fetched from the jwks_uri (loopback allowed for tests)', async () => {
    const t = await request({ client_assertion: await assertion('ES384') });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body['scope'], 'system/*.rs');
  });

  for (const alg of ['RS256', 'ES256']) {
    it(`accepts ${alg} assertions`, async () => {
      const t = await request({ client_assertion: await assertion(alg) });
      assert.equal(t.status, 200, JSON.stringify(t.body));
    });
  }

  it("narrows the requested scopes to what the client's roles permit", async () => {
    const t = await request({
      client_assertion: await assertion('RS384'),
      scope: 'system/*.cruds',
    });
    assert.equal(t.status, 200);
    assert.equal(t.body['scope'], 'system/*.rs');
  });

  it('refuses with invalid_scope when no requested system scope is allowed', async () => {
    const t = await request({
      client_assertion: await assertion('RS384'),
      scope: 'patient/*.rs user/*.rs',
    });
    assert.equal(t.status, 400);
    assert.equal(t.body['error'], 'invalid_scope');
  });

  it('refuses an unknown grant_type with 400 unsupported_grant_type', async () => {
    const t = await request({
      client_assertion: await assertion('RS384'),
      grant_type: 'not_a_grant_type',
    });
    assert.equal(t.status, 400);
    assert.equal(t.body['error'], 'unsupported_grant_type');
  });

  it('refuses an unknown client_assertion_type', async () => {
    const t = await request({
      client_assertion: await assertion('RS384'),
      client_assertion_type: 'not_an_assertion_type',
    });
    assert.ok([400, 401].includes(t.status));
    assert.ok(['invalid_request', 'invalid_client'].includes(String(t.body['error'])));
    assert.equal(typeof t.body['error_description'], 'string');
  });

  it('refuses an assertion whose jti was already used', async () => {
    const a = await assertion('RS384');
    assert.equal((await request({ client_assertion: a })).status, 200);
    const replay = await request({ client_assertion: a });
    assert.equal(replay.status, 401);
    assert.equal(replay.body['error'], 'invalid_client');
  });

  it('refuses an assertion expiring more than five minutes ahead', async () => {
    const t = await request({ client_assertion: await assertion('RS384', {}, { expIn: 600 }) });
    assert.equal(t.status, 401);
    assert.equal(t.body['error'], 'invalid_client');
  });

  it('refuses an assertion whose aud is not the token endpoint', async () => {
    const t = await request({ client_assertion: await assertion('RS384', { aud: h.issuer }) });
    assert.equal(t.status, 401);
    assert.equal(t.body['error'], 'invalid_client');
  });

  it('refuses an assertion whose sub is not the client_id', async () => {
    const t = await request({
      client_assertion: await assertion('RS384', { sub: 'someone-else' }),
    });
    assert.equal(t.status, 401);
    assert.equal(t.body['error'], 'invalid_client');
  });

  it('refuses an assertion signed by a key the client did not register', async () => {
    const stranger = await keyPair('RS384');
    const t = await request({ client_assertion: await assertion('RS384', {}, { key: stranger }) });
    assert.equal(t.status, 401);
    assert.equal(t.body['error'], 'invalid_client');
  });

  it('refuses an expired assertion', async () => {
    const t = await request({ client_assertion: await assertion('RS384', {}, { expIn: -120 }) });
    assert.equal(t.status, 401);
    assert.equal(t.body['error'], 'invalid_client');
  });

  it('refuses a malformed assertion', async () => {
    const t = await request({ client_assertion: 'not-a-jwt', client_id: ids['RS384'] ?? '' });
    assert.ok([400, 401].includes(t.status));
    assert.equal(typeof t.body['error'], 'string');
  });

  it('emits token.issued and client.auth.failure events', async () => {
    const seen: string[] = [];
    const issued = () => seen.push('issued');
    const failed = () => seen.push('failed');
    h.auth.events.on('token.issued', issued);
    h.auth.events.on('client.auth.failure', failed);
    await request({ client_assertion: await assertion('RS384') });
    await request({
      client_assertion: await assertion('RS384', { aud: 'https://elsewhere.example/token' }),
    });
    h.auth.events.off('token.issued', issued);
    h.auth.events.off('client.auth.failure', failed);
    assert.deepEqual(seen, ['issued', 'failed']);
  });
});

describe('backend services without ALLOW_LOOPBACK_JWKS', function () {
  this.timeout(20_000);
  it('refuses to fetch a client jwks_uri on a loopback address', async () => {
    const h = await startHarness({ ALLOW_LOOPBACK_JWKS: '0' });
    const k = await keyPair('ES384');
    const server = http.createServer((_req, res) =>
      res.end(JSON.stringify({ keys: [k.publicJwk] })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const { clientId } = await addClient(h, {
        name: 'uri',
        authMethod: 'private_key_jwt',
        redirectUris: [],
        jwksUri: uri,
        roles: ['fhir-data-reader'],
      });
      const now = Math.floor(Date.now() / 1000);
      const a = await new SignJWT({
        iss: clientId,
        sub: clientId,
        aud: `${h.issuer}/token`,
        jti: randomBytes(16).toString('hex'),
        exp: now + 300,
      })
        .setProtectedHeader({ alg: 'ES384', kid: k.kid, typ: 'JWT' })
        .sign(k.privateKey);
      const t = await tokenRequest(h, {
        grant_type: 'client_credentials',
        scope: 'system/*.rs',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: a,
      });
      assert.equal(t.status, 401);
      assert.equal(t.body['error'], 'invalid_client');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await h.close();
    }
  });
});

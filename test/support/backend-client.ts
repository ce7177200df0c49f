import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { RunningHearth } from './hearth.js';

/** A backend-services client registered through the CLI; mints real tokens at any Hearth sharing its DATA_DIR. */
export interface BackendClient {
  clientId: string;
  token(hearth: RunningHearth): Promise<string>;
}

export async function addBackendClient(
  hearth: RunningHearth,
  scope: string,
  roles: string[],
  name = 'backend-service',
): Promise<BackendClient> {
  const { publicKey, privateKey } = await generateKeyPair('RS384');
  const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'RS384', use: 'sig' };
  const jwksFile = path.join(hearth.dataDir, `jwks-${jwk.kid}.json`);
  await writeFile(jwksFile, JSON.stringify({ keys: [jwk] }));
  const added = await hearth.cli([
    'client',
    'add',
    '--name',
    name,
    '--jwks-file',
    jwksFile,
    '--grant-type',
    'client_credentials',
    '--scope',
    scope,
    ...roles.flatMap((r) => ['--role', r]),
    '--json',
  ]);
  assert.equal(added.code, 0, added.stderr);
  const clientId = (JSON.parse(added.stdout) as { client_id: string }).client_id;
  return { clientId, token: (h) => mint(h, clientId, jwk.kid, privateKey, scope) };
}

async function mint(
  hearth: RunningHearth,
  clientId: string,
  kid: string,
  key: CryptoKey,
  scope: string,
): Promise<string> {
  const config = (await (
    await fetch(`${hearth.fhirBase}/.well-known/smart-configuration`)
  ).json()) as { token_endpoint: string };
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(config.token_endpoint)
    .setJti(randomUUID())
    .setExpirationTime('4m')
    .sign(key);
  const res = await fetch(config.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.ok(body.access_token !== undefined);
  return body.access_token;
}

import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { Browser, checkboxes, csrf, formAction } from './support/browser.js';
import { authorize, basic, REDIRECT, tokenRequest } from './support/flow.js';
import { describeOnEngines } from '../support/engines.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient, addUser, PASSWORD } from './support/seed.js';

const SCOPE =
  'openid fhirUser launch/patient offline_access patient/Observation.rs patient/Patient.rs';
const lab = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

describeOnEngines('standalone launch (authorization code + PKCE)', function (engine) {
  this.timeout(20_000);
  let h: Harness;
  let app: string;
  let confidential: { clientId: string; clientSecret: string | undefined };
  let clinicianId: string;
  let patientUserId: string;

  before(async () => {
    h = await startHarness({}, {}, engine.name);
    clinicianId = await addUser(h, 'clinician', {
      fhirUser: 'Practitioner/prac-1',
      roles: ['fhir-smart-user'],
    });
    patientUserId = await addUser(h, 'ada', {
      fhirUser: 'Patient/pat-1',
      roles: ['fhir-smart-user'],
    });
    app = (await addClient(h)).clientId;
    confidential = await addClient(h, { name: 'Confidential', authMethod: 'client_secret_basic' });
  });
  after(async () => h.close());

  async function exchange(
    clientId: string,
    code: string,
    verifier: string,
    headers: Record<string, string> = {},
  ) {
    return tokenRequest(
      h,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: clientId,
      },
      headers,
    );
  }

  describe('discovery', () => {
    it('describes the SMART server with absolute URLs, S256 only and every capability', () => {
      const c = h.auth.smartConfiguration();
      assert.equal(c.issuer, h.issuer);
      assert.equal(c.token_endpoint, `${h.issuer}/token`);
      assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
      assert.ok(c.token_endpoint_auth_signing_alg_values_supported.includes('RS384'));
      assert.ok(c.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
      assert.deepEqual([...c.token_endpoint_auth_methods_supported].sort(), [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ]);
      for (const cap of [
        'launch-ehr',
        'launch-standalone',
        'authorize-post',
        'context-ehr-encounter',
        'permission-v1',
        'permission-v2',
        'sso-openid-connect',
      ]) {
        assert.ok(c.capabilities.includes(cap), cap);
      }
      assert.ok(c.grant_types_supported.includes('client_credentials'));
    });

    it('serves OpenID discovery at the issuer with the same endpoints and RS256 id tokens', async () => {
      const res = await fetch(`${h.issuer}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      const d = (await res.json()) as Record<string, unknown>;
      const c = h.auth.smartConfiguration();
      assert.equal(d['issuer'], c.issuer);
      assert.equal(d['authorization_endpoint'], c.authorization_endpoint);
      assert.equal(d['token_endpoint'], c.token_endpoint);
      assert.equal(d['jwks_uri'], c.jwks_uri);
      assert.equal(d['introspection_endpoint'], c.introspection_endpoint);
      assert.equal(d['revocation_endpoint'], c.revocation_endpoint);
      assert.deepEqual(d['id_token_signing_alg_values_supported'], ['RS256']);
    });

    it('publishes the signing key as a bare RSA JWK with a kid', async () => {
      const res = await fetch(`${h.issuer}/jwks`);
      const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
      assert.equal(jwks.keys.length, 1);
      const [key] = jwks.keys;
      assert.ok(key !== undefined);
      assert.equal(key['kty'], 'RSA');
      assert.equal(typeof key['kid'], 'string');
      assert.equal(key['d'], undefined);
    });
  });

  describe('the launch', () => {
    it('signs in, picks a patient and asks consent, then redirects with a code and the state', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, patient: 'pat-3' });
      assert.equal(r.error, undefined, r.errorDescription);
      assert.ok(r.code);
      assert.equal(r.state, 'st-123');
      assert.equal(r.pages.length, 3);
    });

    it('answers the code exchange with the SMART token response and no-store, no-cache headers', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, patient: 'pat-3' });
      const t = await exchange(app, r.code ?? '', r.verifier);
      assert.equal(t.status, 200);
      assert.equal(t.body['token_type'], 'Bearer');
      assert.equal(t.body['expires_in'], 3600);
      assert.equal(t.body['scope'], SCOPE);
      assert.equal(t.body['patient'], 'pat-3');
      assert.equal(typeof t.body['id_token'], 'string');
      assert.equal(typeof t.body['refresh_token'], 'string');
      assert.equal(t.headers.get('cache-control'), 'no-store');
      assert.equal(t.headers.get('pragma'), 'no-cache');
    });

    it('issues an RFC 9068 access token for the FHIR base carrying the SMART claims', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, patient: 'pat-3' });
      const t = await exchange(app, r.code ?? '', r.verifier);
      const at = String(t.body['access_token']);
      const { payload, protectedHeader } = await jwtVerify(
        at,
        createRemoteJWKSet(new URL(`${h.issuer}/jwks`)),
        {
          issuer: h.issuer,
          audience: h.fhirBase,
          typ: 'at+jwt',
        },
      );
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.sub, clinicianId);
      assert.equal(payload['client_id'], app);
      assert.equal(payload['scope'], SCOPE);
      assert.equal(payload['patient'], 'pat-3');
      assert.equal(payload['fhirUser'], `${h.fhirBase}/Practitioner/prac-1`);
      assert.deepEqual(payload['roles'], ['fhir-smart-user']);
      assert.equal(typeof payload.jti, 'string');
      assert.equal(typeof payload.iat, 'number');
      assert.equal(payload.exp, (payload.iat ?? 0) + 3600);
    });

    it('issues an RS256 id_token for the client with an absolute fhirUser', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE });
      const t = await exchange(app, r.code ?? '', r.verifier);
      const idToken = String(t.body['id_token']);
      const header = decodeProtectedHeader(idToken);
      assert.equal(header.alg, 'RS256');
      assert.equal(typeof header.kid, 'string');
      const { payload } = await jwtVerify(
        idToken,
        createRemoteJWKSet(new URL(`${h.issuer}/jwks`)),
        { issuer: h.issuer, audience: app },
      );
      assert.equal(payload.sub, clinicianId);
      assert.equal(payload['fhirUser'], `${h.fhirBase}/Practitioner/prac-1`);
    });

    it('gives a Patient user their own record without a picker', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, username: 'ada' });
      assert.equal(r.pages.length, 2);
      assert.ok(!r.pages.some((p) => p.includes('data-patient-id')));
      const t = await exchange(app, r.code ?? '', r.verifier);
      assert.equal(t.body['patient'], 'pat-1');
      assert.equal(decodeJwt(String(t.body['access_token'])).sub, patientUserId);
    });

    it('lists patients as buttons carrying data-patient-id, searchable by name and paged', async () => {
      const browser = new Browser();
      const start = new URLSearchParams({
        response_type: 'code',
        client_id: app,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        state: 's',
        aud: h.fhirBase,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const login = await browser.follow(`${h.issuer}/auth?${start.toString()}`, REDIRECT);
      const picker = await browser.postForm(
        formAction(login.html ?? '', login.url),
        [
          ['csrf', csrf(login.html ?? '')],
          ['username', 'clinician'],
          ['password', PASSWORD],
        ],
        REDIRECT,
      );
      assert.match(picker.html ?? '', /data-patient-id="pat-1"/);
      assert.match(picker.html ?? '', /data-patient-id="pat-2"/);
      assert.doesNotMatch(picker.html ?? '', /data-patient-id="pat-3"/);
      assert.match(picker.html ?? '', /Next/);
      const page2 = await browser.follow(`${picker.url}?page=2`, REDIRECT);
      assert.match(page2.html ?? '', /data-patient-id="pat-3"/);
      const search = await browser.follow(`${picker.url}?name=turing`, REDIRECT);
      assert.match(search.html ?? '', /data-patient-id="pat-2"/);
      assert.doesNotMatch(search.html ?? '', /data-patient-id="pat-1"/);
    });

    it('shows one checked box per requested scope and unchecked category boxes for whole types', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE });
      const boxes = r.consentBoxes ?? [];
      for (const s of SCOPE.split(' '))
        assert.ok(
          boxes.some((b) => b.value === s && b.checked),
          s,
        );
      assert.ok(boxes.some((b) => b.value === `patient/Observation.rs?${lab}` && !b.checked));
    });

    it('grants exactly the checked boxes, a category instead of its whole type', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: SCOPE,
        choose: () => [
          'openid',
          'fhirUser',
          'launch/patient',
          `patient/Observation.rs?${lab}`,
          'patient/Patient.rs',
        ],
      });
      const t = await exchange(app, r.code ?? '', r.verifier);
      assert.equal(
        t.body['scope'],
        `openid fhirUser launch/patient patient/Observation.rs?${lab} patient/Patient.rs`,
      );
      assert.equal(t.body['refresh_token'], undefined);
    });

    it('answers v1 scopes in v1', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: 'openid launch/patient patient/*.read',
      });
      const t = await exchange(app, r.code ?? '', r.verifier);
      assert.equal(t.body['scope'], 'openid launch/patient patient/*.read');
    });

    it('redirects with access_denied and the state when the user denies', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, decision: 'deny' });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'access_denied');
      assert.equal(r.state, 'st-123');
    });

    it('re-asks for the password after a wrong one and issues no code', async () => {
      const browser = new Browser();
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: app,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        state: 's',
        aud: h.fhirBase,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const login = await browser.follow(`${h.issuer}/auth?${q.toString()}`, REDIRECT);
      const again = await browser.postForm(
        formAction(login.html ?? '', login.url),
        [
          ['csrf', csrf(login.html ?? '')],
          ['username', 'clinician'],
          ['password', 'wrong password'],
        ],
        REDIRECT,
      );
      assert.equal(again.res?.status, 401);
      assert.match(again.html ?? '', /name="password"/);
      assert.match(again.html ?? '', /Wrong username or password/);
    });

    it('refuses an interaction form without the CSRF token', async () => {
      const browser = new Browser();
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: app,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        state: 's',
        aud: h.fhirBase,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const login = await browser.follow(`${h.issuer}/auth?${q.toString()}`, REDIRECT);
      const res = await browser.postForm(
        formAction(login.html ?? '', login.url),
        [
          ['username', 'clinician'],
          ['password', PASSWORD],
        ],
        REDIRECT,
      );
      assert.equal(res.res?.status, 403);
    });

    it('accepts the authorization request as a form POST', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, method: 'POST' });
      assert.ok(r.code, r.errorDescription);
    });

    it('lets a confidential client exchange its code with HTTP Basic', async () => {
      const r = await authorize(h, { clientId: confidential.clientId, scope: SCOPE });
      const t = await tokenRequest(
        h,
        {
          grant_type: 'authorization_code',
          code: r.code ?? '',
          redirect_uri: REDIRECT,
          code_verifier: r.verifier,
        },
        basic(confidential.clientId, confidential.clientSecret ?? ''),
      );
      assert.equal(t.status, 200);
    });
  });

  describe('authorization request errors', () => {
    it('issues no code without aud, redirecting invalid_request with the state', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE, omit: ['aud'] });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'invalid_request');
      assert.equal(r.state, 'st-123');
    });

    it('issues no code for an aud that is not this FHIR base', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: SCOPE,
        extra: { aud: 'https://inferno.healthit.gov/invalid_aud' },
      });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'invalid_request');
      assert.match(r.errorDescription ?? '', /aud/);
    });

    it('refuses a request without a PKCE challenge, also from a confidential client', async () => {
      const r = await authorize(h, {
        clientId: confidential.clientId,
        scope: SCOPE,
        omit: ['code_challenge', 'code_challenge_method'],
      });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'invalid_request');
    });

    it('refuses the plain PKCE method', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: SCOPE,
        extra: { code_challenge_method: 'plain' },
      });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'invalid_request');
    });

    it('shows an error page, never a redirect, for an unregistered redirect_uri', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: SCOPE,
        extra: { redirect_uri: `${REDIRECT}/other` },
      });
      assert.equal(r.code, undefined);
      assert.equal(r.error, 'page');
    });

    it('refuses the launch scope without a launch parameter', async () => {
      const r = await authorize(h, { clientId: app, scope: 'launch openid patient/*.rs' });
      assert.equal(r.error, 'invalid_request');
      assert.match(r.errorDescription ?? '', /launch/);
    });
  });

  describe('token request errors', () => {
    for (const [name, verifier] of [
      ['a missing', undefined],
      ['a blank', ''],
      ['a wrong', 'x'.repeat(43)],
    ] as const) {
      it(`refuses ${name} code_verifier with invalid_grant`, async () => {
        const r = await authorize(h, { clientId: confidential.clientId, scope: SCOPE });
        const fields: Record<string, string> = {
          grant_type: 'authorization_code',
          code: r.code ?? '',
          redirect_uri: REDIRECT,
        };
        if (verifier !== undefined) fields['code_verifier'] = verifier;
        const t = await tokenRequest(
          h,
          fields,
          basic(confidential.clientId, confidential.clientSecret ?? ''),
        );
        assert.equal(t.status, 400);
        assert.ok(['invalid_grant', 'invalid_request'].includes(String(t.body['error'])));
        assert.equal(typeof t.body['error_description'], 'string');
      });
    }

    it('refuses the challenge itself as verifier (plain PKCE)', async () => {
      const browser = new Browser();
      const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
      const r = await authorize(h, {
        clientId: app,
        scope: SCOPE,
        browser,
        extra: { code_challenge: challenge },
      });
      const t = await exchange(app, r.code ?? '', challenge);
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'invalid_grant');
    });

    it('refuses an unknown code with 400 invalid_grant', async () => {
      const t = await exchange(app, 'BAD_CODE', 'x'.repeat(43));
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'invalid_grant');
    });

    it('refuses a code used twice', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE });
      assert.equal((await exchange(app, r.code ?? '', r.verifier)).status, 200);
      const again = await exchange(app, r.code ?? '', r.verifier);
      assert.equal(again.status, 400);
      assert.equal(again.body['error'], 'invalid_grant');
    });

    it('refuses a redirect_uri different from the authorization request', async () => {
      const r = await authorize(h, { clientId: app, scope: SCOPE });
      const t = await tokenRequest(h, {
        grant_type: 'authorization_code',
        code: r.code ?? '',
        redirect_uri: `${REDIRECT}/x`,
        code_verifier: r.verifier,
        client_id: app,
      });
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'invalid_grant');
    });

    it('refuses an unknown client with 401 invalid_client', async () => {
      const t = await tokenRequest(
        h,
        {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT,
          code_verifier: 'x'.repeat(43),
        },
        basic('BAD_CLIENT_ID', 'secret'),
      );
      assert.equal(t.status, 401);
      assert.equal(t.body['error'], 'invalid_client');
    });

    it('refuses an unknown grant_type with 400 unsupported_grant_type', async () => {
      const t = await tokenRequest(h, { grant_type: 'not_a_grant_type', client_id: app });
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'unsupported_grant_type');
    });
  });

  describe('refresh', () => {
    async function launch(scope = SCOPE) {
      const r = await authorize(h, { clientId: app, scope, patient: 'pat-2' });
      return exchange(app, r.code ?? '', r.verifier);
    }

    it('renews the same scope and context with a rotated refresh token', async () => {
      const first = await launch();
      const t = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: String(first.body['refresh_token']),
        client_id: app,
      });
      assert.equal(t.status, 200);
      assert.equal(t.body['scope'], SCOPE);
      assert.equal(t.body['patient'], 'pat-2');
      assert.equal(typeof t.body['expires_in'], 'number');
      assert.notEqual(t.body['refresh_token'], first.body['refresh_token']);
      assert.equal(t.headers.get('pragma'), 'no-cache');
      assert.equal(decodeJwt(String(t.body['access_token']))['patient'], 'pat-2');
    });

    it('narrows to a requested subset of the scope', async () => {
      const first = await launch();
      const t = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: String(first.body['refresh_token']),
        client_id: app,
        scope: 'openid launch/patient offline_access patient/Patient.rs',
      });
      assert.equal(t.status, 200);
      assert.equal(t.body['scope'], 'openid launch/patient offline_access patient/Patient.rs');
      assert.equal(
        decodeJwt(String(t.body['access_token']))['scope'],
        'openid launch/patient offline_access patient/Patient.rs',
      );
    });

    it('refuses scopes the refresh token does not hold', async () => {
      const first = await launch();
      const t = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: String(first.body['refresh_token']),
        client_id: app,
        scope: 'patient/*.cruds',
      });
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'invalid_scope');
    });

    it('refuses a rotated-out refresh token and revokes the whole grant', async () => {
      const first = await launch();
      const rt = String(first.body['refresh_token']);
      const second = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: rt,
        client_id: app,
      });
      const replay = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: rt,
        client_id: app,
      });
      assert.equal(replay.status, 400);
      assert.equal(replay.body['error'], 'invalid_grant');
      const after = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: String(second.body['refresh_token']),
        client_id: app,
      });
      assert.equal(after.body['error'], 'invalid_grant');
    });

    it('refuses a random refresh token', async () => {
      const t = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: 'not-a-token',
        client_id: app,
      });
      assert.equal(t.status, 400);
      assert.equal(t.body['error'], 'invalid_grant');
    });

    it('issues a refresh token for online_access and none without offline or online access', async () => {
      const online = await launch('openid launch/patient online_access patient/*.rs');
      assert.equal(typeof online.body['refresh_token'], 'string');
      const none = await launch('openid launch/patient patient/*.rs');
      assert.equal(none.body['refresh_token'], undefined);
    });

    it('keeps refresh tokens valid for 90 days from their last use', async () => {
      const first = await launch();
      const t = await tokenRequest(h, {
        grant_type: 'refresh_token',
        refresh_token: String(first.body['refresh_token']),
        client_id: app,
      });
      const intro = await fetch(`${h.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...basic(confidential.clientId, confidential.clientSecret ?? ''),
        },
        body: new URLSearchParams({ token: String(t.body['refresh_token']) }).toString(),
      });
      const body = (await intro.json()) as { active: boolean; exp: number };
      assert.equal(body.active, true);
      const days = (body.exp - Date.now() / 1000) / 86400;
      assert.ok(days > 89.9 && days <= 90, String(days));
    });
  });

  describe('the picker page', () => {
    it('renders checkboxes for every consent option in the plain view', async () => {
      const r = await authorize(h, {
        clientId: app,
        scope: 'openid patient/Condition.rs',
        patient: 'pat-1',
      });
      const page = r.pages.at(-1) ?? '';
      assert.ok(checkboxes(page).length >= 4);
      assert.match(page, /name="decision" value="allow"/);
      assert.match(page, /name="decision" value="deny"/);
    });
  });
});

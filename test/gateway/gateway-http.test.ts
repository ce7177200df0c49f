import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import type { AuditEvent } from '@medplum/fhirtypes';
import request from 'supertest';
import { decodeConstraint } from '../../store/protocol.js';
import { seed, startHarness, type Harness } from './support/harness.js';
import { AUDIENCE, ISSUER, PATIENT_CLAIMS } from './support/tokens.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('gateway over HTTP (built-in store protocol)', () => {
  let h: Harness;
  let agent: ReturnType<typeof request>;
  let patientToken: string;
  before(async () => {
    h = await startHarness();
    seed(h.fhir);
    agent = request(h.gw.app.callback());
    patientToken = await h.keys.mint(PATIENT_CLAIMS);
  });
  after(async () => {
    await h.close();
  });

  describe('authentication (RFC 6750)', () => {
    it('answers 401 with a bare Bearer challenge and an OperationOutcome when no token is sent', async () => {
      const res = await agent.get('/fhir/Patient/123');
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="http://localhost:8080/fhir"');
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });

    const attacks: [string, () => Promise<string>][] = [
      [
        'a token signed by another key',
        async () => {
          const { privateKey } = await generateKeyPair('RS256');
          return new SignJWT(PATIENT_CLAIMS)
            .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(privateKey);
        },
      ],
      [
        'alg none',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return Promise.resolve(
            `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...PATIENT_CLAIMS, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 })}.`,
          );
        },
      ],
      [
        'HS256 signed with the public key',
        () => {
          const now = Math.floor(Date.now() / 1000);
          const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${b64({ ...PATIENT_CLAIMS, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 })}`;
          const sig = createHmac('sha256', JSON.stringify(h.keys.publicJwk))
            .update(input)
            .digest('base64url');
          return Promise.resolve(`${input}.${sig}`);
        },
      ],
      ['an id_token used as an access token', () => h.keys.mint(PATIENT_CLAIMS, { typ: 'JWT' })],
      [
        'a token for another audience',
        () => h.keys.mint(PATIENT_CLAIMS, { aud: 'http://elsewhere/fhir' }),
      ],
      [
        'a token from another issuer',
        () => h.keys.mint(PATIENT_CLAIMS, { iss: 'http://evil/auth' }),
      ],
      ['an expired token', () => h.keys.mint(PATIENT_CLAIMS, { expiresIn: -120 })],
      ['a token with an unknown key id', () => h.keys.mint(PATIENT_CLAIMS, { kid: 'nope' })],
      ['a garbage token', () => Promise.resolve('not.a.jwt')],
    ];
    for (const [name, make] of attacks) {
      it(`refuses ${name} with 401 invalid_token`, async () => {
        const res = await agent
          .get('/fhir/Patient/123')
          .set('Authorization', `Bearer ${await make()}`);
        assert.equal(res.status, 401);
        assert.match(
          String(res.headers['www-authenticate']),
          /^Bearer realm="[^"]+", error="invalid_token"/,
        );
        assert.equal(res.body.resourceType, 'OperationOutcome');
      });
    }

    it('refuses a revoked token at once, even after it was verified and cached', async () => {
      const token = await h.keys.mint({ ...PATIENT_CLAIMS, jti: 'to-revoke' });
      assert.equal(
        (await agent.get('/fhir/Patient/123').set('Authorization', `Bearer ${token}`)).status,
        200,
      );
      h.revoked.add('to-revoke');
      const res = await agent.get('/fhir/Patient/123').set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /invalid_token/);
    });

    it('refuses an access token in the query string', async () => {
      const res = await agent.get(`/fhir/Patient/123?access_token=${patientToken}`);
      assert.equal(res.status, 401);
    });
  });

  describe('enforcement', () => {
    it("reads the context patient's data, sending the constraint and never the Authorization header", async () => {
      const res = await agent
        .get('/fhir/Observation/o1')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('x-hearth-constraint', 'forged')
        .set('x-hearth-internal', 'forged');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'o1');
      const seen = h.fhir.requests.at(-1);
      assert.equal(seen?.headers.authorization, undefined);
      assert.equal(seen?.headers['x-hearth-internal'], 'internal-test-secret');
      const c = decodeConstraint(String(seen.headers['x-hearth-constraint']));
      assert.deepEqual(c.types.Observation, { compartment: 'Patient/123' });
      assert.equal(res.headers['x-hearth-entities'], undefined);
    });

    it("answers 404 for another patient's resource, exactly like a missing one", async () => {
      const other = await agent
        .get('/fhir/Observation/o2')
        .set('Authorization', `Bearer ${patientToken}`);
      const missing = await agent
        .get('/fhir/Observation/nope')
        .set('Authorization', `Bearer ${patientToken}`);
      assert.equal(other.status, 404);
      assert.equal(missing.status, 404);
      assert.deepEqual(other.body, missing.body);
    });

    it('answers 403 insufficient_scope when no scope covers the request', async () => {
      const res = await agent
        .post('/fhir/Observation')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('content-type', 'application/fhir+json')
        .send({
          resourceType: 'Observation',
          status: 'final',
          code: {},
          subject: { reference: 'Patient/123' },
        });
      assert.equal(res.status, 403);
      assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope"/);
      assert.equal(res.body.issue[0].details.text, 'scope-missing');
    });

    it('answers 403 naming the rule, without a scope challenge, when a role is missing', async () => {
      const token = await h.keys.mint({ ...PATIENT_CLAIMS, scope: 'patient/*.cruds' });
      const res = await agent
        .delete('/fhir/Observation/o1')
        .set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 403);
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(res.body.issue[0].details.text, 'role-missing');
    });

    it('refuses AuditEvent and Group under patient scopes', async () => {
      for (const path of ['/fhir/AuditEvent', '/fhir/Group/g1']) {
        const res = await agent.get(path).set('Authorization', `Bearer ${patientToken}`);
        assert.equal(res.status, 403, path);
      }
    });

    it('runs a batch entry by entry and refuses a transaction with one forbidden entry', async () => {
      const batch = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Observation/o1' } },
          { request: { method: 'GET', url: 'Observation/o2' } },
          { request: { method: 'DELETE', url: 'Observation/o1' } },
        ],
      };
      const res = await agent
        .post('/fhir')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('content-type', 'application/fhir+json')
        .send(batch);
      assert.equal(res.status, 200);
      assert.equal(res.body.type, 'batch-response');
      assert.deepEqual(
        (res.body as { entry: { response: { status: string } }[] }).entry.map((e) =>
          e.response.status.slice(0, 3),
        ),
        ['200', '404', '403'],
      );
      assert.equal(res.body.entry[0].resource.id, 'o1');
      const tx = await agent
        .post('/fhir')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('content-type', 'application/fhir+json')
        .send({ ...batch, type: 'transaction' });
      assert.equal(tx.status, 403);
      assert.match(String(tx.body.issue[0].diagnostics), /entry 2/);
    });

    it('strips internal headers from the backend response', async () => {
      const res = await agent
        .get('/fhir/Observation?code=mine')
        .set('Authorization', `Bearer ${patientToken}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.entry.length, 1);
      assert.equal(res.headers['x-hearth-patients'], undefined);
    });
  });

  describe('open endpoints, CORS and headers', () => {
    it('serves the backend CapabilityStatement with SMART security, without a token', async () => {
      const res = await agent.get('/fhir/metadata');
      assert.equal(res.status, 200);
      const sec = res.body.rest[0].security;
      assert.equal(sec.service[0].coding[0].code, 'SMART-on-FHIR');
      const uris = sec.extension[0];
      assert.equal(
        uris.url,
        'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
      );
      assert.deepEqual(
        (uris as { extension: { url: string; valueUri: string }[] }).extension.find(
          (e) => e.url === 'token',
        )?.valueUri,
        'http://localhost:8080/auth/token',
      );
      assert.ok(
        (res.body as { rest: { resource: { type: string }[] }[] }).rest[0]?.resource.some(
          (r) => r.type === 'AuditEvent',
        ),
      );
    });

    it('serves SMART discovery without a token', async () => {
      const res = await agent.get('/fhir/.well-known/smart-configuration');
      assert.equal(res.status, 200);
      assert.equal(res.body.token_endpoint, 'http://localhost:8080/auth/token');
    });

    it('answers a CORS preflight without a token', async () => {
      const res = await agent
        .options('/fhir/Patient/123')
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'authorization');
      assert.equal(res.status, 204);
      assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
      assert.match(String(res.headers['access-control-allow-methods']), /GET/);
    });

    it('sets security headers and echoes the request id', async () => {
      const res = await agent.get('/fhir/Patient/123').set('X-Request-Id', 'abc-123');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-request-id'], 'abc-123');
    });
  });

  describe('$authz', () => {
    it('explains an allowed read without the resource content', async () => {
      const res = await agent
        .get('/fhir/$authz?method=GET&url=Observation/o1')
        .set('Authorization', `Bearer ${patientToken}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.resourceType, 'Parameters');
      assert.equal(res.body.parameter[0].valueCode, 'allow');
      assert.doesNotMatch(JSON.stringify(res.body), /mine/);
    });

    it('answers 404 for a resource outside the compartment, like a missing one', async () => {
      const res = await agent
        .get('/fhir/$authz?method=GET&url=Observation/o2')
        .set('Authorization', `Bearer ${patientToken}`);
      assert.equal(res.status, 404);
    });

    it('explains a denial with its rule', async () => {
      const res = await agent
        .get('/fhir/$authz?method=DELETE&url=Observation/o1')
        .set('Authorization', `Bearer ${patientToken}`);
      assert.equal(res.status, 200);
      const p = Object.fromEntries(
        (res.body as { parameter: { name: string; valueCode?: string }[] }).parameter.map((x) => [
          x.name,
          x.valueCode,
        ]),
      );
      assert.equal(p.decision, 'deny');
      assert.equal(p.rule, 'scope-missing');
    });
  });

  describe('audit', () => {
    it('records every request, 401s included, readable at /fhir/AuditEvent by the audit reader', async () => {
      await agent.get('/fhir/Observation/o1').set('X-Request-Id', 'unauth-1');
      const reader = await h.keys.mint({
        sub: 'auditor',
        fhirUser: 'Practitioner/a1',
        scope: 'user/AuditEvent.rs',
        roles: ['fhir-audit-reader'],
      });
      const res = await agent
        .get('/fhir/AuditEvent?outcome=4&_count=200')
        .set('Authorization', `Bearer ${reader}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.resourceType, 'Bundle');
      type Page = { total: number; entry: { resource: AuditEvent }[] };
      const ids = (res.body as Page).entry.flatMap((e) =>
        (e.resource.entity ?? []).map((x) => x.what?.identifier?.value),
      );
      assert.ok(ids.includes('unauth-1'));
      const byPatient = await agent
        .get('/fhir/AuditEvent?patient=123&action=R')
        .set('Authorization', `Bearer ${reader}`);
      const page = byPatient.body as Page;
      assert.ok(page.total >= 1);
      for (const e of page.entry) {
        assert.ok(e.resource.entity?.some((x) => x.what?.reference === 'Patient/123'));
      }
    });

    it('records the disclosed entities reported by the store', async () => {
      await agent
        .get('/fhir/Observation/o1')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('X-Request-Id', 'read-o1');
      const page = await h.trail.search({
        count: 10,
        offset: 0,
        refs: { entity: [['Observation/o1']] },
      });
      assert.ok(
        page.events.some((e) => e.entity?.some((x) => x.what?.identifier?.value === 'read-o1')),
      );
    });

    it("copies X-MS-AZUREFHIR-AUDIT-* headers into the record, within Azure's limits", async () => {
      await agent
        .get('/fhir/Patient/123')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('X-MS-AZUREFHIR-AUDIT-USERID', 'u-42')
        .set('X-Request-Id', 'custom-1');
      const e = (
        await h.trail.search({ count: 50, offset: 0, refs: { patient: [['Patient/123']] } })
      ).events.find((x) => x.entity?.some((y) => y.what?.identifier?.value === 'custom-1'));
      assert.deepEqual(
        e?.extension?.[0]?.extension?.map((x) => x.valueString),
        ['X-MS-AZUREFHIR-AUDIT-USERID', 'u-42'],
      );
      let req = agent.get('/fhir/Patient/123').set('Authorization', `Bearer ${patientToken}`);
      for (let i = 0; i < 11; i++) req = req.set(`X-MS-AZUREFHIR-AUDIT-H${i}`, 'x');
      assert.equal((await req).status, 431);
      const long = await agent
        .get('/fhir/Patient/123')
        .set('Authorization', `Bearer ${patientToken}`)
        .set('X-MS-AZUREFHIR-AUDIT-LONG', 'x'.repeat(2049));
      assert.equal(long.status, 431);
    });

    it('exposes Prometheus metrics and a health check covering the audit database', async () => {
      const m = await agent.get('/metrics');
      assert.match(m.text, /hearth_fhir_requests_total\{interaction="read",status="200"\}/);
      assert.match(m.text, /hearth_audit_queue_depth 0/);
      assert.match(m.text, /hearth_fhir_request_duration_seconds_bucket/);
      const health = await agent.get('/health');
      assert.equal(health.status, 200);
    });
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { authorize, REDIRECT, tokenRequest, type AuthServer } from '../auth/support/flow.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * Bulk Data is for backend services only: tokens obtained through the real standalone launch
 * (sign-in, patient picker, consent; driven over HTTP without a browser) are refused at kick-off,
 * status and download with a 403 OperationOutcome — with a patient context, and with a user context
 * — even when the signed-in user holds the exporter role.
 */
describe('Bulk Data refuses launch-flow tokens (patient and user context)', function () {
  this.timeout(300_000);
  let hearth: RunningHearth;
  let server: AuthServer;
  let appId: string;
  let status: string;
  let fileUrl: string;
  let patientId = '';
  let backendToken: string;
  const password = randomBytes(12).toString('base64url');

  before(async () => {
    hearth = await startHearth({ args: ['--demo', '2'] });
    server = { issuer: `${hearth.baseUrl}/auth`, fhirBase: hearth.fhirBase };
    const user = await hearth.cli(
      [
        'user',
        'add',
        '--username',
        'bulk-doctor',
        '--password-stdin',
        '--fhir-user',
        'Practitioner/bulk-doctor',
        '--role',
        'fhir-smart-user',
        '--role',
        'fhir-data-exporter',
        '--json',
      ],
      password,
    );
    assert.equal(user.code, 0, user.stderr);
    const app = await hearth.cli([
      'client',
      'add',
      '--name',
      'Bulk-curious app',
      '--public',
      '--redirect-uri',
      REDIRECT,
      '--json',
    ]);
    assert.equal(app.code, 0, app.stderr);
    appId = (JSON.parse(app.stdout) as { client_id: string }).client_id;
    // A real export by a backend service, whose status and files the launch tokens then try.
    const backend = await addBackendClient(hearth, 'system/*.rs', ['fhir-data-exporter']);
    const bt = await backend.token(hearth);
    backendToken = bt;
    const kick = await fetch(`${hearth.fhirBase}/$export?_type=Patient`, {
      headers: { authorization: `Bearer ${bt}`, prefer: 'respond-async' },
    });
    assert.equal(kick.status, 202);
    status = kick.headers.get('content-location') ?? '';
    for (let i = 0; i < 300 && patientId === ''; i++) {
      const res = await fetch(status, { headers: { authorization: `Bearer ${bt}` } });
      if (res.status === 200) {
        const m = (await res.json()) as { output: { url: string }[] };
        fileUrl = m.output[0]?.url ?? '';
        const body = await (
          await fetch(fileUrl, { headers: { authorization: `Bearer ${bt}` } })
        ).text();
        patientId = (JSON.parse(body.split('\n')[0] ?? '{}') as { id: string }).id;
      } else await sleep(100);
    }
    assert.ok(fileUrl, 'the backend export finished');
  });
  after(async () => hearth.stop());

  async function launchToken(scope: string): Promise<{ token: string; patient: unknown }> {
    const r = await authorize(server, {
      clientId: appId,
      scope,
      username: 'bulk-doctor',
      password,
      patient: patientId,
      // Allow on the consent page with every requested scope ticked (the launch UI's markup).
      choose: () => scope.split(' '),
    });
    assert.equal(r.error, undefined, r.errorDescription);
    const t = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: r.code ?? '',
      redirect_uri: REDIRECT,
      code_verifier: r.verifier,
      client_id: appId,
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    return { token: String(t.body['access_token']), patient: t.body['patient'] };
  }

  async function assertRefused(token: string): Promise<void> {
    const auth = { authorization: `Bearer ${token}` };
    const attempts: [string, RequestInit][] = [
      [`${hearth.fhirBase}/$export`, { headers: { ...auth, prefer: 'respond-async' } }],
      [`${hearth.fhirBase}/Patient/$export`, { headers: { ...auth, prefer: 'respond-async' } }],
      [status, { headers: auth }],
      [status, { method: 'DELETE', headers: auth }],
      [fileUrl, { headers: auth }],
    ];
    for (const [url, init] of attempts) {
      const res = await fetch(url, init);
      assert.equal(res.status, 403, `${init.method ?? 'GET'} ${url}`);
      const oo = (await res.json()) as { resourceType: string; issue: { code: string }[] };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0]?.code, 'forbidden');
    }
  }

  it('refuses a patient-context token from a standalone launch (kick-off, status, cancel, download)', async () => {
    const { token, patient } = await launchToken('openid fhirUser launch/patient patient/*.rs');
    assert.equal(patient, patientId, 'a real patient context');
    assert.equal(decodeJwt(token)['patient'], patientId);
    const read = await fetch(`${hearth.fhirBase}/Patient/${patientId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(read.status, 200, 'the token itself works for its patient');
    await assertRefused(token);
  });

  it('refuses a user-context token of a user holding the exporter role', async () => {
    const { token, patient } = await launchToken('openid fhirUser user/*.rs');
    assert.equal(patient, undefined);
    const claims = decodeJwt(token);
    assert.ok((claims['roles'] as string[]).includes('fhir-data-exporter'));
    const search = await fetch(`${hearth.fhirBase}/Patient?_count=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(search.status, 200, 'the token itself works for user-level reads');
    await assertRefused(token);
  });

  it('leaves the backend job untouched by the refused cancels and downloads', async () => {
    const auth = { authorization: `Bearer ${backendToken}` };
    assert.equal((await fetch(status, { headers: auth })).status, 200);
    assert.equal((await fetch(fileUrl, { headers: auth })).status, 200);
    assert.equal((await fetch(fileUrl, { headers: { authorization: 'Bearer nope' } })).status, 401);
  });
});

import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { Browser } from './support/browser.js';
import { authorize, REDIRECT, tokenRequest } from './support/flow.js';
import { describeOnEngines } from '../support/engines.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient, addUser, admin, PASSWORD } from './support/seed.js';

const SCOPE = 'launch openid fhirUser offline_access patient/*.rs user/Observation.rs';

describeOnEngines('EHR launch', function (engine) {
  this.timeout(20_000);
  let h: Harness;
  let app: string;
  let other: string;

  before(async () => {
    h = await startHarness({}, {}, engine.name);
    await addUser(h, 'clinician', { fhirUser: 'Practitioner/prac-1' });
    await addUser(h, 'nurse', { fhirUser: 'Practitioner/prac-2' });
    app = (await addClient(h, { name: 'EHR app', launchUri: 'https://app.example/launch' }))
      .clientId;
    other = (await addClient(h, { name: 'Other app' })).clientId;
  });
  after(async () => h.close());

  async function signedIn(username = 'clinician'): Promise<Browser> {
    const b = new Browser();
    const res = await b.request(
      `${h.base}/ui/login?${new URLSearchParams({ username, password: PASSWORD }).toString()}`,
      { method: 'POST' },
    );
    assert.equal(res.status, 200);
    return b;
  }

  async function launch(
    b: Browser,
    clientId = app,
    extra: Record<string, string> = { patient: 'pat-9', encounter: 'enc-7' },
  ) {
    const res = await b.request(
      `${h.base}/ui/launch?${new URLSearchParams({ client: clientId, ...extra }).toString()}`,
      { method: 'POST' },
    );
    assert.equal(res.status, 200);
    return (await res.json()) as { launch: string; expiresAt: number; launchUrl?: string };
  }

  it('builds the app launch URL with iss and an opaque launch handle', async () => {
    const b = await signedIn();
    const l = await launch(b);
    const url = new URL(l.launchUrl ?? '');
    assert.equal(url.origin + url.pathname, 'https://app.example/launch');
    assert.equal(url.searchParams.get('iss'), h.fhirBase);
    assert.equal(url.searchParams.get('launch'), l.launch);
    assert.ok(l.launch.length >= 32);
    assert.ok(l.expiresAt - Date.now() / 1000 <= 300);
  });

  it('needs no second sign-in: the launch UI session is the authorization server session', async () => {
    const b = await signedIn();
    const l = await launch(b);
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
    });
    assert.ok(r.code, r.errorDescription);
    assert.equal(
      r.pages.length,
      1,
      r.pages.map((p) => p.slice(p.indexOf('<h1>'), p.indexOf('</h1>'))).join(' | '),
    );
    assert.ok(!r.pages.some((p) => p.includes('name="password"')));
  });

  it('returns the launch context in the token response and the access token', async () => {
    const b = await signedIn();
    const l = await launch(b);
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
    });
    const t = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: r.code ?? '',
      redirect_uri: REDIRECT,
      code_verifier: r.verifier,
      client_id: app,
    });
    assert.equal(t.status, 200);
    assert.deepEqual(String(t.body['scope']).split(' ').sort(), SCOPE.split(' ').sort());
    assert.equal(t.body['patient'], 'pat-9');
    assert.equal(t.body['encounter'], 'enc-7');
    assert.deepEqual(t.body['fhirContext'], [{ reference: 'Encounter/enc-7' }]);
    assert.equal(t.body['need_patient_banner'], false);
    assert.equal(t.body['smart_style_url'], `${h.base}/ui/smart-style.json`);
    const claims = decodeJwt(String(t.body['access_token']));
    assert.equal(claims['patient'], 'pat-9');
    assert.equal(claims['encounter'], 'enc-7');
    const refreshed = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: String(t.body['refresh_token']),
      client_id: app,
    });
    assert.equal(refreshed.body['encounter'], 'enc-7');
    assert.equal(refreshed.body['smart_style_url'], `${h.base}/ui/smart-style.json`);
  });

  it('uses a launch handle only once', async () => {
    const b = await signedIn();
    const l = await launch(b);
    assert.ok(
      (await authorize(h, { clientId: app, scope: SCOPE, browser: b, extra: { launch: l.launch } }))
        .code,
    );
    const again = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
    });
    assert.equal(again.code, undefined);
    assert.equal(again.error, 'invalid_request');
    assert.equal(again.state, 'st-123');
  });

  it('refuses a launch handle issued for another app', async () => {
    const b = await signedIn();
    const l = await launch(b, other);
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
    });
    assert.equal(r.code, undefined);
    assert.equal(r.error, 'invalid_request');
  });

  it('refuses an unknown or expired launch handle', async () => {
    const b = await signedIn();
    const l = await launch(b);
    await admin(h, (a) => a.sql.run('UPDATE launches SET expires_at = 0 WHERE id = ?', [l.launch]));
    const expired = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
    });
    assert.equal(expired.error, 'invalid_request');
    const unknown = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: 'A'.repeat(32) },
    });
    assert.equal(unknown.error, 'invalid_request');
  });

  it("refuses a launch handle used by another user's session", async () => {
    const l = await launch(await signedIn('clinician'));
    const nurse = await signedIn('nurse');
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: nurse,
      extra: { launch: l.launch },
    });
    assert.equal(r.code, undefined);
    assert.equal(r.error, 'access_denied');
  });

  it('signs in at the authorization server when the browser has no session, then continues the launch', async () => {
    const l = await launch(await signedIn('clinician'));
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: new Browser(),
      extra: { launch: l.launch },
    });
    assert.ok(r.code, r.errorDescription);
    assert.ok(r.pages[0]?.includes('name="password"'));
  });

  it('shares a sign-in at the authorization server with the launch UI', async () => {
    const b = new Browser();
    await authorize(h, {
      clientId: other,
      scope: 'openid launch/patient patient/*.rs',
      browser: b,
    });
    const me = (await (await b.request(`${h.base}/ui/me`)).json()) as {
      user?: { username: string };
    };
    assert.equal(me.user?.username, 'clinician');
  });

  it('signs out of both', async () => {
    const b = await signedIn();
    assert.equal((await b.request(`${h.base}/ui/logout`, { method: 'POST' })).status, 204);
    assert.deepEqual(await (await b.request(`${h.base}/ui/me`)).json(), {});
    const r = await authorize(h, {
      clientId: other,
      scope: 'openid launch/patient patient/*.rs',
      browser: b,
    });
    assert.ok(r.pages[0]?.includes('name="password"'));
  });

  it('asks for a patient when the launch carries none but patient scopes are requested', async () => {
    const b = await signedIn();
    const l = await launch(b, app, {});
    const r = await authorize(h, {
      clientId: app,
      scope: SCOPE,
      browser: b,
      extra: { launch: l.launch },
      patient: 'pat-1',
    });
    const t = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: r.code ?? '',
      redirect_uri: REDIRECT,
      code_verifier: r.verifier,
      client_id: app,
    });
    assert.equal(t.body['patient'], 'pat-1');
  });

  it('refuses to create a launch for an unknown client', async () => {
    await assert.rejects(
      h.auth.createLaunch({
        userId: (await h.auth.findUser('clinician'))?.id ?? '',
        clientId: 'nope',
        patient: 'p',
      }),
      /unknown client/,
    );
  });
});

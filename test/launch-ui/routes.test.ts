import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.js';

describe('launch UI routes (HTTP)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  it('serves the home page with a strict Content-Security-Policy and no-store', async () => {
    const res = await fetch(`${harness.url}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const body = await res.text();
    assert.doesNotMatch(body, /<script>|<style|style="/);
  });

  it('refuses a sign-in form without the CSRF token', async () => {
    const res = await fetch(`${harness.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=clinician&password=x',
    });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /This form has expired/);
  });

  it('refuses a launch without the CSRF token even with a session cookie', async () => {
    const res = await fetch(`${harness.url}/launch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'hearth_ui_csrf=abc',
      },
      body: 'client_id=sample&patient=p1&_csrf=abd',
      redirect: 'manual',
    });
    assert.equal(res.status, 403);
    assert.equal(harness.launches.length, 0);
  });

  it('serves the stylesheet, the sample app and the fhirclient browser build as files', async () => {
    for (const [path, type] of [
      ['/ui/static/hearth.css', 'text/css'],
      ['/apps/sample/', 'text/html'],
      ['/apps/sample/launch.html', 'text/html'],
      ['/apps/sample/app.js', 'text/javascript'],
      ['/apps/sample/vendor/fhir-client.js', 'text/javascript'],
    ] as const) {
      const res = await fetch(`${harness.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(type));
    }
  });

  it('tells the sample app its client id and the FHIR base', async () => {
    const cfg = (await (await fetch(`${harness.url}/apps/sample/config.json`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(cfg.clientId, 'sample');
    assert.equal(cfg.fhirBaseUrl, `${harness.url}/fhir`);
    assert.equal(cfg.redirectUri, `${harness.url}/apps/sample/`);
  });

  it('passes paths it does not own to the next middleware', async () => {
    const res = await fetch(`${harness.url}/apps/sample/../../etc/passwd`);
    assert.equal(res.status, 404);
    assert.equal((await fetch(`${harness.url}/fhir/metadata`)).status, 404);
  });
});

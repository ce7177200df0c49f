import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import smart from 'fhirclient';
import { Browser, csrf, formAction } from './support/browser.js';
import { startHarness, type Harness } from './support/harness.js';
import { addClient, addUser, PASSWORD } from './support/seed.js';

type SmartClient = Awaited<ReturnType<ReturnType<typeof smart>['ready']>>;

/**
 * SMART's reference client library, fhirclient, in Node mode: a tiny app server launches against
 * Hearth's authorization server, the user signs in, picks a patient and consents in a browser, and
 * the app reads the patient with the access token.
 */
describe('standalone launch with fhirclient (Node)', function () {
  this.timeout(30_000);
  let h: Harness;
  let appServer: http.Server;
  let appBase: string;
  let clientId: string;
  let ready: Promise<SmartClient>;

  before(async () => {
    h = await startHarness();
    await addUser(h, 'clinician', { fhirUser: 'Practitioner/prac-1' });
    const store = new Map<string, unknown>();
    const storage = {
      set: (k: string, v: unknown) => {
        store.set(k, v);
        return Promise.resolve(v);
      },
      get: (k: string) => Promise.resolve(store.get(k)),
      unset: (k: string) => Promise.resolve(store.delete(k)),
    };
    let resolveReady: (c: SmartClient) => void = () => undefined;
    let rejectReady: (e: unknown) => void = () => undefined;
    ready = new Promise<SmartClient>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    appServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://app');
      if (url.pathname === '/launch') {
        smart(req, res, storage)
          .authorize({
            iss: h.fhirBase,
            clientId,
            scope: 'openid fhirUser launch/patient offline_access patient/*.rs',
            redirectUri: `${appBase}/callback`,
            pkceMode: 'required',
          })
          .catch((err: unknown) => {
            res.statusCode = 500;
            res.end(String(err));
          });
        return;
      }
      if (url.pathname === '/callback') {
        smart(req, res, storage)
          .ready()
          .then((client) => {
            resolveReady(client);
            res.end('ok');
          })
          .catch((err: unknown) => {
            rejectReady(err);
            res.statusCode = 500;
            res.end(String(err));
          });
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    appBase = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    clientId = (
      await addClient(h, { name: 'fhirclient app', redirectUris: [`${appBase}/callback`] })
    ).clientId;
  });

  after(async () => {
    appServer.closeAllConnections();
    await new Promise<void>((resolve) => appServer.close(() => { resolve(); }));
    await h.close();
  });

  it('completes the launch and reads the selected patient with the token', async () => {
    const browser = new Browser();
    const done = `${appBase}/callback`;
    const login = await browser.follow(`${appBase}/launch`, done);
    assert.match(login.html ?? '', /name="password"/);
    const picker = await browser.postForm(
      formAction(login.html ?? '', login.url),
      [
        ['csrf', csrf(login.html ?? '')],
        ['username', 'clinician'],
        ['password', PASSWORD],
      ],
      done,
    );
    const consent = await browser.postForm(
      formAction(picker.html ?? '', picker.url),
      [
        ['csrf', csrf(picker.html ?? '')],
        ['patient', 'pat-2'],
      ],
      done,
    );
    const html = consent.html ?? '';
    const scopes = [...html.matchAll(/name="scope" value="([^"]+)" checked/g)].map(
      (m) => m[1] ?? '',
    );
    const back = await browser.postForm(
      formAction(html, consent.url),
      [
        ['csrf', csrf(html)],
        ...scopes.map((s): [string, string] => ['scope', s]),
        ['decision', 'allow'],
      ],
      done,
    );
    assert.ok(back.url.startsWith(done));
    const callback = await browser.request(back.url);
    assert.equal(callback.status, 200, await callback.text());
    const client = await ready;
    assert.equal(client.patient.id, 'pat-2');
    assert.equal(client.user.fhirUser, 'Practitioner/prac-1');
    assert.match(String(client.state.tokenResponse?.scope), /patient\/\*\.rs/);
    assert.equal(typeof client.state.tokenResponse?.refresh_token, 'string');
    const patient = (await client.patient.read()) as { resourceType: string; id: string };
    assert.deepEqual(patient, { resourceType: 'Patient', id: 'pat-2' });
    const before = client.state.tokenResponse?.access_token;
    const refreshed = await client.refresh();
    assert.equal(refreshed.tokenResponse?.patient, 'pat-2');
    assert.notEqual(refreshed.tokenResponse.access_token, before);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, watchPageErrors, type TestBrowser } from '../launch-ui/browser.js';
import {
  accessible,
  allow,
  appOutcome,
  authorize,
  deny,
  LAB_SCOPE,
  signInAtHome,
  submit,
  type Account,
} from '../launch-ui/flows.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * The launch flows through the whole system (`npm run demo`: auth + gateway + store + launch UI)
 * in headless Chromium: EHR launch and standalone launch of the sample app ending with the
 * patient's name and observations on screen, consent narrowing, category scopes, denied consent.
 */
describe('launch flows end to end (whole system, Chromium)', function () {
  this.timeout(300_000);
  let hearth: RunningHearth | undefined;
  let chrome: TestBrowser | undefined;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const clinician: Account = {
    username: 'clinician',
    password: randomBytes(12).toString('base64url'),
  };
  const patient: Account = { username: 'patient', password: randomBytes(12).toString('base64url') };
  const base = (): string => hearth?.baseUrl ?? '';

  before(async function () {
    if (!existsSync(new URL('../../main.ts', import.meta.url))) this.skip();
    hearth = await startHearth({ args: ['--demo', '4'] });
    chrome = await launchBrowser();
    for (const a of [clinician, patient]) {
      const r = await hearth.cli(['user', 'passwd', a.username, '--password-stdin'], a.password);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await chrome?.close();
    await hearth?.stop();
  });
  beforeEach(async () => {
    context = await chrome!.newContext();
    page = await context.newPage();
    errors = watchPageErrors(page);
  });
  afterEach(async () => {
    await context.close();
    assert.deepEqual(errors, []);
  });

  it('EHR launch: the clinician signs in at /, launches the sample app for a patient and sees their record', async () => {
    await signInAtHome(page, base(), clinician);
    const row = page.locator('tbody tr[data-patient-id]').first();
    await row.waitFor();
    await accessible(page, 'e2e-home');
    const name = ((await row.locator('th').textContent()) ?? '').trim();
    const id = await row.getAttribute('data-patient-id');
    await submit(page, row.getByRole('button', { name: /Launch/ }));
    let consentNames: string | null = null;
    const { steps } = await authorize(
      page,
      clinician,
      async (p) => {
        consentNames = await p.locator('.patient-name').textContent();
        await allow(p);
      },
      'e2e-ehr',
    );
    assert.deepEqual(steps, ['consent']);
    assert.equal(consentNames, name, 'the consent page names the patient, not just the id');
    const outcome = await appOutcome(page);
    assert.ok(outcome.ready, await page.locator('main').innerText());
    assert.equal(outcome.patient, id);
    assert.equal((await page.locator('#patient-name').textContent())?.trim(), name);
    assert.ok((await page.locator('#vitals table tbody tr').count()) > 0, 'vital signs on screen');
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0, 'lab results on screen');
    assert.equal(await page.locator('#vitals svg.chart path').count(), 3);
    await accessible(page, 'e2e-sample-app-record');
  });

  it("standalone launch: a clinician signs in, picks a patient, consents, and sees that patient's name and observations", async () => {
    await page.goto(`${base()}/apps/sample/launch.html`);
    const { steps, picked } = await authorize(page, clinician, allow, 'e2e-standalone', (p) =>
      p.locator('button[data-patient-id]').nth(1),
    );
    assert.deepEqual(steps, ['login', 'picker', 'consent']);
    const outcome = await appOutcome(page);
    assert.ok(outcome.ready, await page.locator('main').innerText());
    assert.equal(outcome.patient, picked);
    assert.ok(outcome.scope.includes('patient/Observation.rs'));
    assert.ok(((await page.locator('#patient-name').textContent()) ?? '').trim().length > 0);
    assert.ok((await page.locator('#vitals table tbody tr').count()) > 0, 'vital signs on screen');
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0, 'lab results on screen');
    await accessible(page, 'e2e-standalone-record');
  });

  it('grants less when a box is unticked: the app is refused the conditions', async () => {
    await page.goto(`${base()}/apps/sample/launch.html`);
    await authorize(
      page,
      patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Condition.rs"]').uncheck();
        await allow(p);
      },
      'e2e-narrow',
    );
    const outcome = await appOutcome(page);
    assert.ok(outcome.ready, await page.locator('main').innerText());
    assert.ok(((await page.locator('#patient-name').textContent()) ?? '').trim().length > 0);
    assert.ok(!outcome.scope.includes('patient/Condition.rs'));
    assert.match(
      (await page.locator('#conditions').textContent()) ?? '',
      /Not shared with this app/,
    );
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0);
  });

  it('grants category scopes when categories are chosen: lab results but no vital signs', async () => {
    await page.goto(`${base()}/apps/sample/launch.html`);
    await authorize(
      page,
      patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Observation.rs"]').uncheck();
        await p.locator(`input[name=scope][value="${LAB_SCOPE}"]`).check();
        await allow(p);
      },
      'e2e-category',
    );
    const outcome = await appOutcome(page);
    assert.ok(outcome.scope.includes(LAB_SCOPE), outcome.scope.join(' '));
    assert.ok(!outcome.scope.includes('patient/Observation.rs'));
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0, 'labs shown');
    assert.equal(await page.locator('#vitals table').count(), 0, 'no vital signs');
  });

  it('says the password is wrong at the authorization server sign-in', async () => {
    await page.goto(`${base()}/apps/sample/launch.html`);
    await page.locator('input[name=password]').waitFor();
    await page.getByLabel('Username').fill(patient.username);
    await page.getByLabel('Password').fill('definitely wrong');
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.match((await page.getByRole('alert').textContent()) ?? '', /password/i);
  });

  it('returns access_denied to the app when consent is denied', async () => {
    await page.goto(`${base()}/apps/sample/launch.html`);
    await authorize(page, patient, deny, 'e2e-deny');
    assert.equal((await appOutcome(page)).error, 'access_denied');
  });
});

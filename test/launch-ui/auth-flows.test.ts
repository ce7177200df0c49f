import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startAuthHarness, type AuthHarness } from './auth-harness.js';
import { launchBrowser, watchPageErrors, type TestBrowser } from './browser.js';
import {
  accessible,
  allow,
  appOutcome,
  authorize,
  deny,
  LAB_SCOPE,
  signInAtHome,
  submit,
} from './flows.js';

describe('launch flows with the real authorization server (Chromium)', function () {
  this.timeout(180_000);
  let h: AuthHarness;
  let chrome: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  before(async () => {
    [h, chrome] = await Promise.all([startAuthHarness(), launchBrowser()]);
  });
  after(async () => {
    await chrome.close();
    await h.close();
  });
  beforeEach(async () => {
    context = await chrome.newContext();
    page = await context.newPage();
    errors = watchPageErrors(page);
  });
  afterEach(async () => {
    await context.close();
    assert.deepEqual(errors, []);
  });

  // Pending on auth: after consent, the resumed authorization re-checks `patient_context_missing`
  // with launches.peek() on a launch that consent already took (auth/interactions/routes.ts `take`),
  // so auth shows a patient picker after consent and the app gets the picked patient, not the
  // launched one. Unskip when auth keeps the launch's patient in the interaction result.
  it.skip('EHR launch: a clinician signed in at / launches the app for a patient without signing in again', async () => {
    await signInAtHome(page, h.url, h.clinician);
    const row = page.locator('tbody tr[data-patient-id]').nth(1);
    const patientId = await row.getAttribute('data-patient-id');
    await submit(page, row.getByRole('button', { name: /Launch/ }));
    const steps = await authorize(page, h.clinician, allow, 'auth-ehr');
    assert.deepEqual(steps, ['consent']);
    const outcome = await appOutcome(page);
    assert.equal(outcome.patient, patientId);
    assert.ok(outcome.scope.includes('launch'), outcome.scope.join(' '));
  });

  it('standalone launch: sign-in, patient picker and consent grant the requested scopes for the chosen patient', async () => {
    await page.goto(`${h.url}/apps/sample/launch.html`);
    const chosen = h.patients[3]?.id ?? '';
    const steps = await authorize(page, h.clinician, allow, 'auth-standalone', (p) =>
      p.locator(`button[data-patient-id="${chosen}"]`),
    );
    assert.deepEqual(steps, ['login', 'picker', 'consent']);
    const outcome = await appOutcome(page);
    assert.equal(outcome.patient, chosen);
    for (const s of ['patient/Observation.rs', 'patient/Condition.rs', 'launch/patient'])
      assert.ok(outcome.scope.includes(s), s);
  });

  it('grants exactly what stays ticked: unticking conditions removes patient/Condition.rs', async () => {
    await page.goto(`${h.url}/apps/sample/launch.html`);
    await authorize(
      page,
      h.patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Condition.rs"]').uncheck();
        await allow(p);
      },
      'auth-narrow',
    );
    const outcome = await appOutcome(page);
    assert.ok(!outcome.scope.includes('patient/Condition.rs'), outcome.scope.join(' '));
    assert.ok(outcome.scope.includes('patient/Observation.rs'));
  });

  it('grants the category scope chosen instead of the whole type', async () => {
    await page.goto(`${h.url}/apps/sample/launch.html`);
    await authorize(
      page,
      h.patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Observation.rs"]').uncheck();
        await p.locator(`input[name=scope][value="${LAB_SCOPE}"]`).check();
        await allow(p);
      },
      'auth-category',
    );
    const outcome = await appOutcome(page);
    assert.ok(outcome.scope.includes(LAB_SCOPE), outcome.scope.join(' '));
    assert.ok(!outcome.scope.includes('patient/Observation.rs'));
  });

  it('says the password is wrong on the authorization server sign-in page', async () => {
    await page.goto(`${h.url}/apps/sample/launch.html`);
    await page.locator('input[name=password]').waitFor();
    await page.getByLabel('Username').fill(h.patient.username);
    await page.getByLabel('Password').fill('not the password');
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.match((await page.getByRole('alert').textContent()) ?? '', /password/i);
    await accessible(page, 'auth-wrong-password');
  });

  it('returns access_denied to the app when consent is denied', async () => {
    await page.goto(`${h.url}/apps/sample/launch.html`);
    await authorize(page, h.patient, deny, 'auth-deny');
    const outcome = await appOutcome(page);
    assert.equal(outcome.error, 'access_denied');
    await accessible(page, 'auth-sample-app-denied');
  });
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import {
  describeViolations,
  launchBrowser,
  screenshot,
  seriousViolations,
  watchPageErrors,
  type TestBrowser,
} from '../launch-ui/browser.js';

/**
 * The launch flows through the whole system (`npm run demo`: auth + gateway + store + launch UI)
 * in headless Chromium: EHR launch and standalone launch of the sample app, consent narrowing,
 * category scopes, wrong password and denied consent.
 */

const LAB =
  'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

interface Account {
  readonly username: string;
  readonly password: string;
}

/** Clicks something that loads a new document and waits for that document's load event. */
async function submit(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

async function accessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${name}: ${describeViolations(violations)}`);
}

type ConsentChoice = (page: Page) => Promise<void>;

/**
 * Walks the authorization pages (login → patient picker → consent) until the browser is back at
 * the sample app, screenshotting and checking each page on the way.
 */
async function authorize(
  page: Page,
  who: Account,
  consent: ConsentChoice,
  tag: string,
): Promise<void> {
  for (let step = 0; step < 6; step++) {
    await page.waitForLoadState('load');
    if (
      new URL(page.url()).pathname.startsWith('/apps/sample/') &&
      !page.url().includes('launch.html')
    )
      return;
    if (page.url().includes('launch.html')) {
      await page.waitForURL((u) => !u.pathname.endsWith('launch.html'), { timeout: 20_000 });
      continue;
    }
    if ((await page.locator('input[name=password]').count()) > 0) {
      await accessible(page, `${tag}-login`);
      await page.getByLabel('Username').fill(who.username);
      await page.getByLabel('Password').fill(who.password);
      await submit(page, page.getByRole('button', { name: 'Sign in' }));
    } else if ((await page.locator('[data-patient-id]').count()) > 0) {
      await accessible(page, `${tag}-picker`);
      await submit(page, page.locator('button[data-patient-id]').first());
    } else if ((await page.locator('input[name=scope]').count()) > 0) {
      await accessible(page, `${tag}-consent`);
      await consent(page);
    } else {
      throw new Error(
        `unexpected page ${page.url()}: ${(await page.locator('main').textContent()) ?? ''}`,
      );
    }
  }
  throw new Error(`authorization did not return to the app (at ${page.url()})`);
}

const allow: ConsentChoice = async (page) => {
  await submit(page, page.getByRole('button', { name: 'Allow' }));
};

async function recordShown(page: Page): Promise<string> {
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
  return (await page.locator('#record').getAttribute('data-granted-scope')) ?? '';
}

describe('launch flows end to end (whole system, Chromium)', function () {
  this.timeout(240_000);
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

  before(async function () {
    if (!existsSync(new URL('../../main.ts', import.meta.url))) this.skip();
    hearth = await startHearth({ args: ['--demo'] });
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

  it('EHR launch: the clinician signs in at /, finds a patient, launches the sample app and sees the record', async () => {
    await page.goto(`${hearth!.baseUrl}/`);
    await page.getByLabel('Username').fill(clinician.username);
    await page.getByLabel('Password').fill(clinician.password);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    const row = page.locator('tbody tr[data-patient-id]').first();
    await row.waitFor();
    await accessible(page, 'e2e-home');
    const name = ((await row.locator('th').textContent()) ?? '').trim();
    await submit(page, row.getByRole('button', { name: /Launch/ }));
    await authorize(page, clinician, allow, 'e2e-ehr');
    await recordShown(page);
    assert.equal((await page.locator('#patient-name').textContent())?.trim(), name);
    assert.ok((await page.locator('#vitals table tbody tr').count()) > 0, 'vital signs on screen');
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0, 'lab results on screen');
    assert.equal(await page.locator('#vitals svg.chart path').count(), 3);
    await accessible(page, 'e2e-sample-app-record');
  });

  it('standalone launch: the patient signs in, consents, and the app shows their name and observations', async () => {
    await page.goto(`${hearth!.baseUrl}/apps/sample/launch.html`);
    await authorize(page, patient, allow, 'e2e-standalone');
    const granted = await recordShown(page);
    assert.match(granted, /patient\/Observation\.rs/);
    assert.ok(((await page.locator('#patient-name').textContent()) ?? '').trim().length > 0);
    assert.ok((await page.locator('#vitals table tbody tr').count()) > 0);
  });

  it('grants less when a box is unticked: without conditions the app is refused them', async () => {
    await page.goto(`${hearth!.baseUrl}/apps/sample/launch.html`);
    await authorize(
      page,
      patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Condition.rs"]').uncheck();
        await allow(p);
      },
      'e2e-narrow',
    );
    const granted = await recordShown(page);
    assert.doesNotMatch(granted, /Condition/);
    assert.match(
      (await page.locator('#conditions').textContent()) ?? '',
      /Not shared with this app/,
    );
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0);
  });

  it('grants category scopes when categories are chosen: lab results only', async () => {
    await page.goto(`${hearth!.baseUrl}/apps/sample/launch.html`);
    await authorize(
      page,
      patient,
      async (p) => {
        await p.locator('input[name=scope][value="patient/Observation.rs"]').uncheck();
        await p.locator(`input[name=scope][value="${LAB}"]`).check();
        await allow(p);
      },
      'e2e-category',
    );
    const granted = await recordShown(page).then((s) => s.split(' '));
    assert.ok(granted.includes(LAB), granted.join(' '));
    assert.ok(!granted.includes('patient/Observation.rs'));
    assert.ok((await page.locator('#labs table tbody tr').count()) > 0, 'labs still shown');
    assert.equal(await page.locator('#vitals table').count(), 0, 'no vital signs');
  });

  it('says "wrong username or password" at the authorization server sign-in', async () => {
    await page.goto(`${hearth!.baseUrl}/apps/sample/launch.html`);
    await page.locator('input[name=password]').waitFor();
    await page.getByLabel('Username').fill(patient.username);
    await page.getByLabel('Password').fill('definitely wrong');
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.match((await page.getByRole('alert').textContent()) ?? '', /wrong|incorrect|invalid/i);
    await accessible(page, 'e2e-wrong-password');
  });

  it('returns access_denied to the app when consent is denied', async () => {
    await page.goto(`${hearth!.baseUrl}/apps/sample/launch.html`);
    await authorize(
      page,
      patient,
      async (p) => {
        await submit(p, p.getByRole('button', { name: 'Deny' }));
      },
      'e2e-deny',
    );
    await page.locator('#error[data-error="access_denied"]').waitFor();
    await accessible(page, 'e2e-sample-app-denied');
  });
});

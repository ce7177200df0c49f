import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { PASSWORD, startHarness, type Harness } from './harness.js';
import {
  describeViolations,
  launchBrowser,
  screenshot,
  seriousViolations,
  watchPageErrors,
  type TestBrowser,
} from './browser.js';

/** Each page: no serious accessibility violation, no CSP violation, and a screenshot to look at. */
async function checkPage(page: Page, errors: string[], name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], describeViolations(violations));
  assert.deepEqual(errors, []);
}

async function signIn(page: Page, url: string, password = PASSWORD): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username').fill('clinician');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

describe('launch UI pages (Chromium, against a harness with the real views)', function () {
  this.timeout(60_000);
  let harness: Harness;
  let chrome: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  before(async () => {
    harness = await startHarness();
    chrome = await launchBrowser();
  });
  after(async () => {
    await chrome.close();
    await harness.close();
  });
  beforeEach(async () => {
    context = await chrome.newContext();
    page = await context.newPage();
    errors = watchPageErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });

  it('shows the clinician sign-in page with labelled username and password fields', async () => {
    await page.goto(`${harness.url}/`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to Hearth');
    assert.equal(await page.locator('input[name=username]').count(), 1);
    assert.equal(await page.locator('input[name=password]').count(), 1);
    await checkPage(page, errors, 'home-sign-in');
  });

  it('says "Wrong username or password" after a failed sign-in and keeps the username', async () => {
    await signIn(page, harness.url, 'not the password');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Wrong username or password/);
    assert.equal(await page.getByLabel('Username').inputValue(), 'clinician');
    await checkPage(page, errors, 'home-wrong-password');
  });

  it('signs a clinician in and lists patients with name, birth date, gender and identifier', async () => {
    await signIn(page, harness.url);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Find a patient');
    const rows = page.locator('tbody tr[data-patient-id]');
    assert.equal(await rows.count(), 10);
    const first = await rows.first().textContent();
    assert.match(first ?? '', /\d{4}-\d{2}-\d{2}/);
    assert.match(first ?? '', /male|female/);
    assert.match(first ?? '', /H0000\d\d/);
    const apps = await page.locator('input[name=client_id]').evaluateAll((els) => els.length);
    assert.equal(apps, 1, 'only apps with a launch URI are offered');
    assert.match((await page.locator('fieldset.apps').textContent()) ?? '', /Hearth sample app/);
    assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /Nightly export/);
    await checkPage(page, errors, 'home-patients');
  });

  it('searches patients by name and pages through the results', async () => {
    await signIn(page, harness.url);
    await page.getByRole('link', { name: 'Next page' }).click();
    assert.equal(await page.locator('tbody tr[data-patient-id]').count(), 10);
    assert.match((await page.locator('.pager').textContent()) ?? '', /Page 2/);
    const name = (await page.locator('tbody tr th').first().textContent()) ?? '';
    await page.getByLabel('Name').fill(name.split(' ')[0] ?? '');
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    const names = await page.locator('tbody tr th').allTextContents();
    assert.ok(
      names.length >= 1 && names.every((n) => n.includes(name.split(' ')[0] ?? '')),
      names.join(', '),
    );
    const born = (await page.locator('tbody tr td').first().textContent()) ?? '';
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Birth date').fill(born);
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    const dates = await page.locator('tbody tr td:nth-of-type(1)').allTextContents();
    assert.ok(dates.length >= 1 && dates.every((d) => d === born), `${born}: ${dates.join(', ')}`);
  });

  it('launches the chosen app for a patient: an EHR launch context, then the launch URI with iss and launch', async () => {
    await signIn(page, harness.url);
    const row = page.locator('tbody tr[data-patient-id]').nth(2);
    const patientId = await row.getAttribute('data-patient-id');
    const navigation = page.waitForURL(/\/apps\/sample\/launch\.html\?/);
    await row.getByRole('button', { name: /Launch/ }).click();
    await navigation;
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('iss'), `${harness.url}/fhir`);
    assert.match(url.searchParams.get('launch') ?? '', /^launch-\d+$/);
    const last = harness.launches.at(-1);
    assert.deepEqual(
      { user: last?.userId, client: last?.clientId, patient: last?.patient },
      { user: 'user-1', client: 'sample', patient: patientId },
    );
  });

  it('signs out and says so', async () => {
    await signIn(page, harness.url);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForLoadState('load');
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /signed out/);
    await page.goto(`${harness.url}/`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to Hearth');
  });

  it('renders the interaction login page per the contract (username, password, one submit button)', async () => {
    await page.goto(`${harness.url}/auth/interaction/login?error=1`);
    assert.equal(await page.locator('form input[name=username]').count(), 1);
    assert.equal(await page.locator('form input[name=password]').count(), 1);
    assert.equal(await page.locator('form button[type=submit]').count(), 1);
    assert.equal(await page.locator('input[name=csrf][type=hidden]').inputValue(), 'token-123');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Wrong username or password/);
    await checkPage(page, errors, 'interaction-login');
  });

  it('renders the patient picker with one data-patient-id button per patient, search and paging', async () => {
    await page.goto(`${harness.url}/auth/interaction/picker`);
    const buttons = page.locator('button[data-patient-id]');
    assert.equal(await buttons.count(), 10);
    assert.match((await buttons.first().textContent()) ?? '', /Born \d{4}-\d{2}-\d{2}/);
    await checkPage(page, errors, 'interaction-patient-picker');
    await page.getByRole('link', { name: 'Next page' }).click();
    assert.match(page.url(), /page=2/);
    const id = await page
      .locator('button[data-patient-id]')
      .first()
      .getAttribute('data-patient-id');
    await page.locator('button[data-patient-id]').first().click();
    await page.waitForLoadState('load');
    assert.equal(harness.consentPosts.at(-1)?.get('patient'), id);
  });

  it('renders consent with every requested scope checked, category alternatives unchecked, and posts exactly the ticked boxes', async () => {
    await page.goto(`${harness.url}/auth/interaction/consent`);
    const boxes = page.locator('input[type=checkbox][name=scope]');
    assert.equal(await boxes.count(), 9);
    assert.ok(await page.locator('input[value="patient/Observation.rs"]').isChecked());
    const lab = page.locator('input[value$="|laboratory"]');
    assert.equal(await lab.isChecked(), false);
    assert.match(
      (await page
        .locator('label', { has: page.locator('code', { hasText: /^patient\/Observation\.rs$/ }) })
        .textContent()) ?? '',
      /Read your lab results, vital signs/,
    );
    assert.match(
      (await page.locator(`label[for="${(await lab.getAttribute('id')) ?? ''}"]`).textContent()) ??
        '',
      /Read your lab results/,
    );
    assert.equal(await page.locator('button[name=decision][value=allow]').textContent(), 'Allow');
    assert.equal(await page.locator('button[name=decision][value=deny]').textContent(), 'Deny');
    await checkPage(page, errors, 'interaction-consent');
    await page.locator('input[value="patient/Observation.rs"]').uncheck();
    await page.locator('input[value="patient/Condition.rs"]').uncheck();
    await lab.check();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForLoadState('load');
    const posted = harness.consentPosts.at(-1);
    assert.equal(posted?.get('decision'), 'allow');
    assert.deepEqual(posted.getAll('scope'), [
      'openid',
      'fhirUser',
      'launch/patient',
      'offline_access',
      'patient/Patient.rs',
      'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory',
    ]);
  });

  it('renders the interaction error page calmly, without internals', async () => {
    await page.goto(`${harness.url}/auth/interaction/error`);
    assert.equal(
      await page.getByRole('heading', { level: 1 }).textContent(),
      'This sign-in has expired',
    );
    await checkPage(page, errors, 'interaction-error');
  });

  it('shows the sample app welcome page when opened without a launch', async () => {
    await page.goto(`${harness.url}/apps/sample/`);
    await page.locator('#welcome').waitFor();
    await checkPage(page, errors, 'sample-app-welcome');
  });

  it('shows access_denied at the sample app when the authorization server refused', async () => {
    await page.goto(
      `${harness.url}/apps/sample/?error=access_denied&error_description=The+user+denied+access`,
    );
    await page.locator('#error[data-error="access_denied"]').waitFor();
    assert.match((await page.locator('#error-message').textContent()) ?? '', /access_denied/);
    await checkPage(page, errors, 'sample-app-denied');
  });

  it('fits the sign-in, patient list, picker and consent pages without sideways scrolling', async () => {
    const phone = await chrome.browser.newContext({
      viewport: { width: 375, height: 740 },
      isMobile: true,
    });
    try {
      const page = await phone.newPage();
      const overflow = (): Promise<number> =>
        page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      await page.goto(`${harness.url}/`);
      assert.equal(await overflow(), 0, 'sign-in');
      await signIn(page, harness.url);
      assert.equal(await overflow(), 0, 'patients');
      await screenshot(page, 'phone-home-patients');
      for (const path of ['picker', 'consent']) {
        await page.goto(`${harness.url}/auth/interaction/${path}`);
        assert.equal(await overflow(), 0, path);
        await screenshot(page, `phone-interaction-${path}`);
      }
    } finally {
      await phone.close();
    }
  });

  it('signs an idle clinician out and says why', async () => {
    const idle = await startHarness({ idleMinutes: 0.03 });
    try {
      await signIn(page, idle.url);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Find a patient');
      await page.waitForTimeout(2500);
      await page.goto(`${idle.url}/`);
      assert.equal(
        await page.getByRole('heading', { level: 1 }).textContent(),
        'Sign in to Hearth',
      );
      assert.match((await page.getByRole('status').first().textContent()) ?? '', /idle/);
    } finally {
      await idle.close();
    }
  });

  // Last: it leaves the harness account locked.
  it('says the account is locked after repeated failed sign-ins', async () => {
    for (let i = 0; i < 6; i++) await signIn(page, harness.url, `wrong ${i}`);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /locked/);
    await checkPage(page, errors, 'home-locked');
  });
});

import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { describeViolations, screenshot, seriousViolations } from './browser.js';

/** Browser steps shared by the launch-flow suites (harness with real auth, and the whole system). */

export const LAB_SCOPE =
  'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

export interface Account {
  readonly username: string;
  readonly password: string;
}

/** Clicks something that loads a new document and waits for that document's load event. */
export async function submit(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

/** Screenshot, then no serious or critical axe violation. */
export async function accessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${name}: ${describeViolations(violations)}`);
}

export type ConsentChoice = (page: Page) => Promise<void>;

export const allow: ConsentChoice = (page) =>
  submit(page, page.getByRole('button', { name: 'Allow' }));

export const deny: ConsentChoice = (page) =>
  submit(page, page.getByRole('button', { name: 'Deny' }));

export async function signInAtHome(page: Page, baseUrl: string, who: Account): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await submit(page, page.getByRole('button', { name: 'Sign in' }));
}

/**
 * Walks the authorization pages (login → patient picker → consent) until the browser is back at
 * the sample app, checking each page on the way. `pick` chooses a patient on the picker.
 */
export async function authorize(
  page: Page,
  who: Account,
  consent: ConsentChoice,
  tag: string,
  pick: (page: Page) => Locator = (p) => p.locator('button[data-patient-id]').first(),
): Promise<{ steps: string[]; picked: string | undefined }> {
  const seen: string[] = [];
  let picked: string | undefined;
  for (let step = 0; step < 8; step++) {
    await page.waitForLoadState('load');
    const url = new URL(page.url());
    if (url.pathname.endsWith('/launch.html')) {
      await page.waitForURL((u) => !u.pathname.endsWith('/launch.html'), { timeout: 30_000 });
      continue;
    }
    if (url.pathname.startsWith('/apps/sample/')) return { steps: seen, picked };
    if ((await page.locator('input[name=password]').count()) > 0) {
      seen.push('login');
      await accessible(page, `${tag}-login`);
      await page.getByLabel('Username').fill(who.username);
      await page.getByLabel('Password').fill(who.password);
      await submit(page, page.getByRole('button', { name: 'Sign in' }));
    } else if ((await page.locator('[data-patient-id]').count()) > 0) {
      seen.push('picker');
      await accessible(page, `${tag}-picker`);
      const choice = pick(page);
      picked = (await choice.getAttribute('data-patient-id')) ?? undefined;
      await submit(page, choice);
    } else if ((await page.locator('input[name=scope]').count()) > 0) {
      seen.push('consent');
      await accessible(page, `${tag}-consent`);
      await consent(page);
    } else {
      throw new Error(
        `unexpected page ${page.url()}: ${(await page.locator('body').textContent()) ?? ''}`,
      );
    }
  }
  throw new Error(`authorization did not return to the app (at ${page.url()})`);
}

export interface AppOutcome {
  /** The token response's scope, as the app received it. */
  readonly scope: string[];
  readonly patient: string | undefined;
  /** `access_denied` etc. when the authorization server refused. */
  readonly error: string | undefined;
  /** True when the record (banner, vitals, labs…) rendered. */
  readonly ready: boolean;
}

/** Waits until the sample app has either rendered the record or shown an error. */
export async function appOutcome(page: Page): Promise<AppOutcome> {
  await page
    .locator('body[data-ready="true"], #error:not([hidden])')
    .first()
    .waitFor({ timeout: 30_000 });
  const record = page.locator('#record');
  return {
    scope: ((await record.getAttribute('data-granted-scope')) ?? '')
      .split(' ')
      .filter((s) => s !== ''),
    patient: (await record.getAttribute('data-patient-id')) ?? undefined,
    error: (await page.locator('#error').getAttribute('data-error')) ?? undefined,
    ready: (await page.locator('body').getAttribute('data-ready')) === 'true',
  };
}

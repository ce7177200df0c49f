import { Browser, checkboxes, csrf, formAction, pkce } from './browser.js';
import type { Harness } from './harness.js';

/** What the flow needs of a server: the auth harness, or the whole of Hearth started for e2e. */
export type AuthServer = Pick<Harness, 'issuer' | 'fhirBase'>;

export const REDIRECT = 'http://127.0.0.1:1/callback';

export interface AuthorizeOptions {
  readonly clientId: string;
  readonly scope: string;
  readonly redirectUri?: string;
  readonly username?: string;
  readonly password?: string;
  readonly patient?: string;
  readonly encounter?: string;
  /** Which boxes to send on the consent page; default: the checked ones. */
  readonly choose?: (boxes: { value: string; checked: boolean }[]) => string[];
  readonly decision?: 'allow' | 'deny';
  readonly extra?: Record<string, string>;
  readonly omit?: string[];
  readonly browser?: Browser;
  readonly method?: 'GET' | 'POST';
}

export interface AuthorizeResult {
  readonly code?: string | undefined;
  readonly error?: string | undefined;
  readonly errorDescription?: string | undefined;
  readonly state?: string | undefined;
  readonly verifier: string;
  readonly browser: Browser;
  readonly pages: string[];
  readonly consentBoxes?: { value: string; checked: boolean }[] | undefined;
}

/** Runs the authorization-code flow through the real interaction pages. */
export async function authorize(h: AuthServer, o: AuthorizeOptions): Promise<AuthorizeResult> {
  const browser = o.browser ?? new Browser();
  const { verifier, challenge } = pkce();
  const redirectUri = o.redirectUri ?? REDIRECT;
  const all: Record<string, string> = {
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: redirectUri,
    scope: o.scope,
    state: 'st-123',
    aud: h.fhirBase,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...o.extra,
  };
  const params = Object.fromEntries(
    Object.entries(all).filter(([k]) => !(o.omit ?? []).includes(k)),
  );
  const pages: string[] = [];
  let step =
    o.method === 'POST'
      ? await browser.postForm(`${h.issuer}/auth`, Object.entries(params), redirectUri)
      : await browser.follow(
          `${h.issuer}/auth?${new URLSearchParams(params).toString()}`,
          redirectUri,
        );
  let consentBoxes: { value: string; checked: boolean }[] | undefined;
  for (let i = 0; i < 8 && step.html !== undefined; i++) {
    const html = step.html;
    pages.push(html);
    if (step.res !== undefined && step.res.status >= 400) break;
    if (html.includes('name="password"')) {
      step = await browser.postForm(
        formAction(html, step.url),
        [
          ['csrf', csrf(html)],
          ['username', o.username ?? 'clinician'],
          ['password', o.password ?? 'correct horse battery'],
        ],
        redirectUri,
      );
    } else if (html.includes('data-patient-id')) {
      step = await browser.postForm(
        formAction(html, step.url),
        [
          ['csrf', csrf(html)],
          ['patient', o.patient ?? 'pat-2'],
        ],
        redirectUri,
      );
    } else if (html.includes('data-encounter-id') || html.includes('name="encounter"')) {
      step = await browser.postForm(
        formAction(html, step.url),
        [
          ['csrf', csrf(html)],
          ['encounter', o.encounter ?? ''],
        ],
        redirectUri,
      );
    } else if (html.includes('name="decision"')) {
      const boxes = checkboxes(html);
      consentBoxes = boxes;
      const chosen = o.choose?.(boxes) ?? boxes.filter((b) => b.checked).map((b) => b.value);
      step = await browser.postForm(
        formAction(html, step.url),
        [
          ['csrf', csrf(html)],
          ...chosen.map((s): [string, string] => ['scope', s]),
          ['decision', o.decision ?? 'allow'],
        ],
        redirectUri,
      );
    } else {
      break;
    }
  }
  if (step.html !== undefined) {
    return {
      verifier,
      browser,
      pages,
      consentBoxes,
      error: 'page',
      errorDescription: step.html.slice(0, 2000),
    };
  }
  const url = new URL(step.url);
  const q = url.searchParams;
  return {
    code: q.get('code') ?? undefined,
    error: q.get('error') ?? undefined,
    errorDescription: q.get('error_description') ?? undefined,
    state: q.get('state') ?? undefined,
    verifier,
    browser,
    pages,
    consentBoxes,
  };
}

/** POSTs a form to the token endpoint. */
export async function tokenRequest(
  h: AuthServer,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${h.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: res.headers,
  };
}

export function basic(id: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  };
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { hearthCli } from './hearth-process.js';

/** Real tokens through the real endpoints: backend services and a patient-scoped granular grant. */

export const LAB_SCOPE =
  'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

interface TokenResponse {
  access_token?: string;
  error?: string;
  error_description?: string;
}

async function tokenRequest(endpoint: string, form: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as TokenResponse;
  if (res.status !== 200 || body.access_token === undefined)
    throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Registers a backend-services client (private_key_jwt) and returns a function minting fresh tokens. */
export async function backendServices(
  baseUrl: string,
  env: Record<string, string>,
  scope: string,
  roles: string[],
): Promise<() => Promise<string>> {
  const { publicKey, privateKey } = await generateKeyPair('RS384');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS384', use: 'sig' };
  const jwksFile = path.join(env.DATA_DIR ?? '.', `bench-jwks-${kid}.json`);
  await writeFile(jwksFile, JSON.stringify({ keys: [jwk] }));
  const added = (await hearthCli(
    ['client', 'add', '--name', 'bench-service', '--jwks-file', jwksFile]
      .concat(['--grant-type', 'client_credentials', '--scope', scope])
      .concat(roles.flatMap((r) => ['--role', r])),
    env,
  )) as { client_id: string };
  const tokenEndpoint = `${baseUrl}/auth/token`;
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached !== undefined && cached.until > Date.now()) return cached.token;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS384', kid, typ: 'JWT' })
      .setIssuer(added.client_id)
      .setSubject(added.client_id)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setExpirationTime('4m')
      .sign(privateKey);
    const token = await tokenRequest(tokenEndpoint, {
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    cached = { token, until: Date.now() + 120_000 };
    return token;
  };
}

/** A cookie jar and manual redirects: just enough browser for the plain interaction pages. */
class FormBrowser {
  private readonly cookies = new Map<string, string>();

  async go(url: string, init: RequestInit = {}): Promise<{ url: string; html?: string }> {
    let current = url;
    let req = init;
    for (let i = 0; i < 20; i++) {
      const headers = new Headers(req.headers);
      headers.set('accept', 'text/html');
      if (this.cookies.size > 0)
        headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(current, { ...req, headers, redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const pair = c.split(';')[0] ?? '';
        const eq = pair.indexOf('=');
        if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null)
        return { url: current, html: await res.text() };
      await res.arrayBuffer();
      current = new URL(location, current).href;
      if (!current.startsWith('http://127.0.0.1') && !current.startsWith('http://localhost'))
        return { url: current };
      if (current.startsWith(REDIRECT_URI)) return { url: current };
      req = {};
    }
    throw new Error('too many redirects');
  }

  post(url: string, fields: [string, string][]): Promise<{ url: string; html?: string }> {
    return this.go(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

const REDIRECT_URI = 'http://127.0.0.1:1/bench-callback';

const unescapeHtml = (s: string): string =>
  s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The first POST form of a page: its action and hidden fields (the CSRF token among them). */
function formOf(html: string, base: string): { action: string; hidden: [string, string][] } {
  const form = /<form\s+method="post"\s+action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (form?.[1] === undefined) throw new Error(`unexpected page: ${html.slice(0, 300)}`);
  const hidden = [
    ...(form[2] ?? '').matchAll(/<input\s+type="hidden"\s+name="([^"]+)"\s+value="([^"]*)"/g),
  ].map((m): [string, string] => [unescapeHtml(m[1] ?? ''), unescapeHtml(m[2] ?? '')]);
  return { action: new URL(unescapeHtml(form[1]), base).href, hidden };
}

/**
 * A patient signs in through the real authorization-code flow (PKCE, login form, consent form with
 * the granular laboratory box checked instead of the whole-type Observation scope) and the code is
 * exchanged at the token endpoint.
 */
export async function patientGranularToken(
  baseUrl: string,
  env: Record<string, string>,
  patientId: string,
): Promise<{ token: string; scope: string }> {
  const username = `bench-patient-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  await hearthCli(
    ['user', 'add', '--username', username, '--password', password].concat([
      '--fhir-user',
      `Patient/${patientId}`,
      '--role',
      'fhir-smart-user',
    ]),
    env,
  );
  const client = (await hearthCli(
    ['client', 'add', '--name', 'bench-patient-app', '--public', '--redirect-uri', REDIRECT_URI],
    env,
  )) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const requested = 'openid fhirUser launch/patient patient/Patient.rs patient/Observation.rs';
  const browser = new FormBrowser();
  let step = await browser.go(
    `${baseUrl}/auth/auth?${new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      scope: requested,
      state: randomUUID(),
      aud: `${baseUrl}/fhir`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString()}`,
  );
  let granted: string[] = [];
  for (let i = 0; i < 6 && step.html !== undefined; i++) {
    const html = step.html;
    const form = formOf(html, step.url);
    if (html.includes('name="password"')) {
      step = await browser.post(form.action, [
        ...form.hidden,
        ['username', username],
        ['password', password],
      ]);
    } else if (html.includes('data-patient-id')) {
      step = await browser.post(form.action, [...form.hidden, ['patient', patientId]]);
    } else if (html.includes('name="decision"')) {
      const boxes = [
        ...html.matchAll(/<input\s+type="checkbox"[^>]*?name="scope"\s+value="([^"]+)"/g),
      ].map((m) => unescapeHtml(m[1] ?? ''));
      if (!boxes.includes(LAB_SCOPE)) throw new Error('consent page offers no laboratory scope');
      granted = boxes.filter(
        (s) => s !== 'patient/Observation.rs' && (!s.includes('?') || s === LAB_SCOPE),
      );
      step = await browser.post(form.action, [
        ...form.hidden,
        ...granted.map((s): [string, string] => ['scope', s]),
        ['decision', 'allow'],
      ]);
    } else {
      throw new Error(`unexpected page in the sign-in flow: ${html.slice(0, 300)}`);
    }
  }
  const code = new URL(step.url).searchParams.get('code');
  if (code === null) throw new Error(`no code in redirect ${step.url}`);
  const token = await tokenRequest(`${baseUrl}/auth/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
    code_verifier: verifier,
  });
  return { token, scope: granted.join(' ') };
}

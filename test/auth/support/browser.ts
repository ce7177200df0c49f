import { createHash, randomBytes } from 'node:crypto';

/**
 * A minimal browser for driving the authorization flow over real HTTP: a cookie jar, manual
 * redirects, and form helpers for the plain interaction pages.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const jar = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (jar !== '') headers.set('cookie', jar);
    if (!headers.has('accept')) headers.set('accept', 'text/html,application/json');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair === undefined || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects until a page (non-3xx) or a URL starting with `stopAt`. */
  async follow(
    url: string,
    stopAt: string,
    init: RequestInit = {},
  ): Promise<{ url: string; res?: Response; html?: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let i = 0; i < 20; i++) {
      if (res.status < 300 || res.status >= 400) {
        return { url: current, res, html: await res.text() };
      }
      const location = res.headers.get('location');
      if (location === null) throw new Error(`redirect without location from ${current}`);
      current = new URL(location, current).href;
      if (current.startsWith(stopAt)) return { url: current };
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }

  async postForm(url: string, fields: [string, string][], stopAt: string) {
    return this.follow(url, stopAt, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

export function formAction(html: string, base: string, index = 0): string {
  const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
  const a = actions[index];
  if (a === undefined) throw new Error(`no form in page: ${html.slice(0, 500)}`);
  return new URL(decode(a), base).href;
}

export function csrf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (m?.[1] === undefined) throw new Error('no csrf field');
  return decode(m[1]);
}

export function checkboxes(html: string): { value: string; checked: boolean }[] {
  return [
    ...html.matchAll(/<input type="checkbox" id="[^"]+" name="scope" value="([^"]+)"( checked)?>/g),
  ].map((m) => ({
    value: decode(m[1] ?? ''),
    checked: m[2] !== undefined,
  }));
}

function decode(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

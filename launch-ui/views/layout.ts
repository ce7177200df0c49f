import { flag, html, type HtmlValue, type SafeHtml } from '../html.js';

/** Where the launch UI serves its stylesheet (a file: the CSP allows no inline style). */
export const STYLESHEET = '/ui/static/hearth.css';

export interface PageOptions {
  readonly title: string;
  readonly body: HtmlValue;
  /** Shown at the right of the header (e.g. the signed-in user and a sign-out form). */
  readonly headerAside?: HtmlValue;
  /** Narrow pages (sign-in, consent) centre a single card. */
  readonly narrow?: boolean;
  /** Script files (same origin) loaded at the end of the body. */
  readonly scripts?: readonly string[];
  /** Idle sign-out after this many seconds (home.js warns first, then reloads). */
  readonly idleSeconds?: number;
}

/** The page shell every launch-UI and interaction page shares. */
export function page(o: PageOptions): string {
  const doc: SafeHtml = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${o.title} · Hearth</title>
        <link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="${STYLESHEET}" />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>Hearth</a>
          ${o.headerAside ?? ''}
        </header>
        <main
          id="main"
          class="${o.narrow === true ? 'narrow' : 'wide'}"
          data-idle-seconds="${o.idleSeconds ?? ''}"
        >
          ${
            o.idleSeconds === undefined
              ? ''
              : html`<div id="idle-warning" class="notice notice-info" role="status" hidden>
                  You will be signed out soon because the page has been idle.
                  <button type="button" id="stay-signed-in" class="button small">
                    Stay signed in
                  </button>
                </div>`
          }
          ${o.body}
        </main>
        ${(o.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
      </body>
    </html> `;
  return doc.value;
}

/** A status message block; `role="alert"` for errors so screen readers announce them. */
export function notice(kind: 'error' | 'info' | 'success', text: HtmlValue): SafeHtml {
  return html`<div
    class="notice notice-${kind}"
    ${kind === 'error' ? html`role="alert"` : html`role="status"`}
  >
    ${text}
  </div>`;
}

/**
 * The sign-in form (CONTRACT.md: `username` and `password` with visible labels, one submit button),
 * shared by the clinician home and the authorization server's login page.
 */
export function signInForm(action: string, csrf: SafeHtml, username: string | undefined): SafeHtml {
  return html`<form method="post" action="${action}" class="stack" autocomplete="on">
    ${csrf}
    <div class="field">
      <label for="username">Username</label>
      <input
        id="username"
        name="username"
        type="text"
        autocomplete="username"
        required
        value="${username ?? ''}"
        ${flag('autofocus', username === undefined)}
      />
    </div>
    <div class="field">
      <label for="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autocomplete="current-password"
        required${flag('autofocus', username !== undefined)}
      />
    </div>
    <button type="submit" class="button primary">Sign in</button>
  </form>`;
}

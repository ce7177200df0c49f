import type { ClientInfo, PatientSummary, UserInfo } from '../../auth/index.js';
import { flag, html, type SafeHtml } from '../html.js';
import { CSRF_FIELD } from '../middleware/csrf.js';
import { notice, page, signInForm } from './layout.js';

export interface SignInPage {
  readonly csrf: string;
  readonly username?: string | undefined;
  readonly error?: string | undefined;
  readonly info?: string | undefined;
}

function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

export function signInPage(v: SignInPage): string {
  return page({
    title: 'Sign in',
    narrow: true,
    body: html`<section class="card">
      <h1>Sign in to Hearth</h1>
      <p class="lede">Clinicians: sign in to find a patient and open an app in their context.</p>
      ${v.info === undefined ? '' : notice('info', v.info)}
      ${v.error === undefined ? '' : notice('error', v.error)}
      ${signInForm('/sign-in', csrfInput(v.csrf), v.username)}
    </section>`,
  });
}

export interface HomePage {
  readonly csrf: string;
  readonly user: UserInfo;
  readonly query: { readonly name: string; readonly birthdate: string; readonly page: number };
  readonly patients: readonly PatientSummary[];
  readonly nextPage: number | undefined;
  readonly apps: readonly ClientInfo[];
  readonly error?: string | undefined;
  readonly idleSeconds: number;
}

function pageLink(q: HomePage['query'], pageNo: number): string {
  const p = new URLSearchParams();
  if (q.name !== '') p.set('name', q.name);
  if (q.birthdate !== '') p.set('birthdate', q.birthdate);
  p.set('page', String(pageNo));
  return `/?${p.toString()}`;
}

function userMenu(v: HomePage): SafeHtml {
  return html`<div class="user-menu">
    <span class="user-name"><span class="muted">Signed in as</span> ${v.user.username}</span>
    <form method="post" action="/sign-out">
      ${csrfInput(v.csrf)}<button type="submit" class="button small">Sign out</button>
    </form>
  </div>`;
}

function appChooser(v: HomePage): SafeHtml {
  if (v.apps.length === 0) {
    return notice(
      'info',
      html`No apps with a launch URI are registered yet. Register one with
        <code>npx hearth client add --name &hellip; --launch-uri &hellip;</code>.`,
    );
  }
  return html`<fieldset class="apps">
    <legend>App to open</legend>
    ${v.apps.map(
      (a, i) =>
        html`<div class="app-choice">
          <input
            type="radio"
            id="app-${i}"
            name="client_id"
            value="${a.clientId}"
            form="launch"
            ${flag('checked', i === 0)}
          />
          <label for="app-${i}"
            ><strong>${a.name}</strong> <span class="muted">${a.launchUri ?? ''}</span></label
          >
        </div>`,
    )}
  </fieldset>`;
}

function patientTable(v: HomePage): SafeHtml {
  if (v.patients.length === 0)
    return notice('info', 'No patients match. Try part of a name, or a birth date.');
  const canLaunch = v.apps.length > 0;
  return html`<div class="table-wrap">
    <table class="patients">
      <caption class="visually-hidden">
        Patients
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Birth date</th>
          <th scope="col">Gender</th>
          <th scope="col">Identifier</th>
          <th scope="col"><span class="visually-hidden">Action</span></th>
        </tr>
      </thead>
      <tbody>
        ${v.patients.map(
          (p) =>
            html`<tr data-patient-id="${p.id}">
              <th scope="row">${p.name}</th>
              <td data-label="Born">${p.birthDate ?? '—'}</td>
              <td data-label="Gender">${p.gender ?? '—'}</td>
              <td data-label="ID">${p.identifier ?? '—'}</td>
              <td>
                ${canLaunch ? html`<button type="submit" form="launch" name="patient" value="${p.id}" class="button primary small" data-patient-id="${p.id}" aria-label="${`Launch app for ${p.name}`}">Launch</button>` : ''}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function homePage(v: HomePage): string {
  return page({
    title: 'Patients',
    idleSeconds: v.idleSeconds,
    scripts: ['/ui/static/home.js'],
    headerAside: userMenu(v),
    body: html`<h1>Find a patient</h1>
      <form id="launch" method="post" action="/launch">${csrfInput(v.csrf)}</form>
      <section class="card">
        <form method="get" action="/" class="search-form" role="search">
          <div class="field">
            <label for="name">Name</label>
            <input id="name" name="name" type="search" value="${v.query.name}" autocomplete="off" />
          </div>
          <div class="field">
            <label for="birthdate">Birth date</label>
            <input id="birthdate" name="birthdate" type="date" value="${v.query.birthdate}" />
          </div>
          <button type="submit" class="button">Search</button>
        </form>
        ${v.error === undefined ? '' : notice('error', v.error)} ${appChooser(v)} ${patientTable(v)}
        <nav class="pager" aria-label="Pages">
          ${v.query.page > 1 ? html`<a class="button" href="${pageLink(v.query, v.query.page - 1)}">Previous page</a>` : ''}
          <span class="muted">Page ${v.query.page}</span>
          ${v.nextPage === undefined ? '' : html`<a class="button" href="${pageLink(v.query, v.nextPage)}">Next page</a>`}
        </nav>
      </section>`,
  });
}

export function messagePage(title: string, message: string, csrfHint = false): string {
  return page({
    title,
    narrow: true,
    body: html`<section class="card">
      <h1>${title}</h1>
      ${notice('error', message)}
      <p>
        <a href="/">${csrfHint ? 'Reload the page and try again' : 'Go to the Hearth home page'}</a>
      </p>
    </section>`,
  });
}

import type {
  ConsentScopeOption,
  ConsentView,
  CsrfField,
  ErrorView,
  InteractionViews,
  LoginView,
  PatientPickerView,
} from '../../auth/index.js';
import { flag, html, type SafeHtml } from '../html.js';
import { describeScope } from '../scope-text.js';
import { notice, page, signInForm } from './layout.js';

function csrfInput(csrf: CsrfField): SafeHtml {
  return html`<input type="hidden" name="${csrf.name}" value="${csrf.value}" />`;
}

function appLine(client: { name: string; clientId: string }): SafeHtml {
  return html`<p class="app-line">
    <span class="muted">App:</span> <strong>${client.name}</strong>
  </p>`;
}

function login(v: LoginView): string {
  return page({
    title: 'Sign in',
    narrow: true,
    body: html`<section class="card">
      <h1>Sign in</h1>

      <p class="lede">
        Sign in to let <strong>${v.client.name}</strong> connect to your health records.
      </p>
      ${v.error === undefined ? '' : notice('error', v.error)}
      ${signInForm(v.action, csrfInput(v.csrf), v.username)}
    </section>`,
  });
}

function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base, 'http://placeholder.invalid');
  for (const [k, value] of Object.entries(params))
    if (value !== undefined && value !== '') url.searchParams.set(k, value);
  return base.startsWith('http') ? url.href : `${url.pathname}${url.search}`;
}

function patientPicker(v: PatientPickerView): string {
  const isPatient = v.kind === 'patient';
  const query = { name: v.query.name, birthdate: v.query.birthdate };
  const rows = v.patients.map(
    (p) =>
      html`<li class="pick-row">
        <button
          type="submit"
          class="pick"
          name="${v.kind}"
          value="${p.id}"
          data-${isPatient ? 'patient' : 'encounter'}-id="${p.id}"
        >
          <span class="pick-name">${p.name}</span>
          <span class="pick-meta"
            >${[
              p.birthDate === undefined
                ? ''
                : html`<span><span class="muted">Born</span> ${p.birthDate}</span>`,
              p.gender === undefined ? '' : html`<span>${p.gender}</span>`,
              p.identifier === undefined
                ? ''
                : html`<span><span class="muted">ID</span> ${p.identifier}</span>`,
            ]}</span
          >
        </button>
      </li>`,
  );
  return page({
    title: isPatient ? 'Choose a patient' : 'Choose a visit',
    body: html`<section class="card">
      <h1>${isPatient ? 'Choose a patient' : 'Choose a visit'}</h1>
      ${appLine(v.client)}
      ${
        isPatient
          ? html`<form method="get" action="${v.searchAction}" class="search-form" role="search">
              <div class="field">
                <label for="name">Name</label>
                <input
                  id="name"
                  name="name"
                  type="search"
                  value="${v.query.name ?? ''}"
                  autocomplete="off"
                />
              </div>
              <div class="field">
                <label for="birthdate">Birth date</label>
                <input
                  id="birthdate"
                  name="birthdate"
                  type="date"
                  value="${v.query.birthdate ?? ''}"
                />
              </div>
              <button type="submit" class="button">Search</button>
            </form>`
          : ''
      }
      ${v.error === undefined ? '' : notice('error', v.error)}
      <form method="post" action="${v.action}">
        ${csrfInput(v.csrf)}
        ${
          v.patients.length === 0
            ? notice(
                'info',
                isPatient
                  ? 'No patients match. Try part of a name, or a birth date.'
                  : 'No visits found.',
              )
            : html`<ul class="pick-list" aria-label="${isPatient ? 'Patients' : 'Visits'}">
                ${rows}
              </ul>`
        }
      </form>
      <nav class="pager" aria-label="Pages">
        ${v.page > 1 ? html`<a class="button" href="${withQuery(v.searchAction, { ...query, page: String(v.page - 1) })}">Previous page</a>` : ''}
        <span class="muted">Page ${v.page}</span>
        ${v.nextPage === undefined ? '' : html`<a class="button" href="${withQuery(v.searchAction, { ...query, page: String(v.nextPage) })}">Next page</a>`}
      </nav>
    </section>`,
  });
}

function scopeText(o: ConsentScopeOption, patientFacing: boolean): string {
  return describeScope(o.value, patientFacing) ?? o.label;
}

function scopeItem(
  o: ConsentScopeOption,
  index: number,
  patientFacing: boolean,
  narrower: readonly ConsentScopeOption[],
  offset: number,
): SafeHtml {
  const id = `scope-${index}`;
  return html`<li class="scope">
    <input
      type="checkbox"
      id="${id}"
      name="scope"
      value="${o.value}"
      ${flag('checked', o.checked)}
    />
    <label for="${id}"
      ><span class="scope-text">${scopeText(o, patientFacing)}</span>
      <code class="scope-raw">${o.value}</code></label
    >
    ${
      narrower.length === 0
        ? ''
        : html`<fieldset class="narrower">
            <legend>Or share only some of it</legend>
            <ul class="scope-list">
              ${narrower.map((n, i) => {
                const nid = `scope-${offset + i}`;
                return html`<li class="scope">
                  <input
                    type="checkbox"
                    id="${nid}"
                    name="scope"
                    value="${n.value}"
                    ${flag('checked', n.checked)}
                  />
                  <label for="${nid}"
                    ><span class="scope-text">${scopeText(n, patientFacing)}</span>
                    <code class="scope-raw">${n.value}</code></label
                  >
                </li>`;
              })}
            </ul>
          </fieldset>`
    }
  </li>`;
}

function consent(v: ConsentView): string {
  const patientFacing = v.user.fhirUser?.startsWith('Patient/') === true;
  const top = v.scopes.filter((o) => o.narrows === undefined);
  const orphans = v.scopes.filter(
    (o) => o.narrows !== undefined && !top.some((t) => t.value === o.narrows),
  );
  let offset = v.scopes.length;
  const items = [...top, ...orphans].map((o, i) => {
    const narrower = o.narrows === undefined ? v.scopes.filter((n) => n.narrows === o.value) : [];
    const item = scopeItem(o, i, patientFacing, narrower, offset);
    offset += narrower.length;
    return item;
  });
  return page({
    title: 'Allow access',
    narrow: true,
    body: html`<section class="card">
      <h1>
        Allow <span class="app-name">${v.client.name}</span> to access
        ${patientFacing ? 'your records' : "this patient's records"}?
      </h1>
      <p class="lede">
        Signed in as <strong>${v.user.username}</strong>.
        ${
          v.patient === undefined || patientFacing
            ? ''
            : html`Patient:
                <strong class="patient-name">${v.patientSummary?.name ?? v.patient}</strong
                >${v.patientSummary?.birthDate === undefined ? '' : html`, born ${v.patientSummary.birthDate}`}
                <span class="muted">(id ${v.patient})</span>.`
        }
      </p>
      <form method="post" action="${v.action}" class="stack">
        ${csrfInput(v.csrf)}
        <fieldset class="scopes">
          <legend>The app asks to:</legend>
          <p class="hint">
            Untick anything you do not want to share. The app gets exactly what stays ticked.
          </p>
          <ul class="scope-list">
            ${items}
          </ul>
        </fieldset>
        ${v.offline ? notice('info', 'This app asks to keep access after you close it. You can revoke it later.') : ''}
        <div class="actions">
          <button type="submit" name="decision" value="allow" class="button primary">Allow</button>
          <button type="submit" name="decision" value="deny" class="button">Deny</button>
        </div>
      </form>
    </section>`,
  });
}

function error(v: ErrorView): string {
  return page({
    title: v.title,
    narrow: true,
    body: html`<section class="card">
      <h1>${v.title}</h1>
      ${notice('error', v.message)}
      <p><a href="/">Go to the Hearth home page</a></p>
    </section>`,
  });
}

/** Styled pages for auth's interactions (login → patient picker → consent), per ../shared/CONTRACT.md. */
export function createInteractionViews(): InteractionViews {
  return { login, patientPicker, consent, error };
}

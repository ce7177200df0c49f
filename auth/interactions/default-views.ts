import { escapeHtml as e, page } from './html.js';
import type {
  ConsentView,
  CsrfField,
  ErrorView,
  InteractionViews,
  LoginView,
  PatientPickerView,
} from './views.js';

/**
 * The plain built-in interaction pages, following ../shared/CONTRACT.md's markup. The launch UI
 * replaces them with styled ones through InteractionViews.
 */

function csrfInput(csrf: CsrfField): string {
  return `<input type="hidden" name="${e(csrf.name)}" value="${e(csrf.value)}">`;
}

function login(v: LoginView): string {
  const error = v.error === undefined ? '' : `<p class="error" role="alert">${e(v.error)}</p>`;
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${e(v.client.name)}</strong></p>
${error}
<form method="post" action="${e(v.action)}">
${csrfInput(v.csrf)}
<label for="username">Username</label>
<input id="username" type="text" name="username" autocomplete="username" required autofocus value="${e(v.username ?? '')}">
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

function patientPicker(v: PatientPickerView): string {
  const what = v.kind === 'patient' ? 'patient' : 'encounter';
  const error = v.error === undefined ? '' : `<p class="error" role="alert">${e(v.error)}</p>`;
  const rows = v.patients
    .map((p) => {
      const details = [p.birthDate, p.gender, p.identifier]
        .filter((x): x is string => x !== undefined)
        .map((x) => e(x));
      return `<li><button type="submit" name="${what}" value="${e(p.id)}" data-${what}-id="${e(p.id)}">${e(p.name)}${
        details.length > 0 ? ` <small>${details.join(' · ')}</small>` : ''
      }</button></li>`;
    })
    .join('\n');
  const search =
    v.kind === 'patient'
      ? `<form method="get" action="${e(v.searchAction)}" role="search">
<label for="name">Name</label>
<input id="name" type="text" name="name" value="${e(v.query.name ?? '')}">
<label for="birthdate">Birth date</label>
<input id="birthdate" type="date" name="birthdate" value="${e(v.query.birthdate ?? '')}">
<button type="submit">Search</button>
</form>`
      : '';
  const skip =
    v.kind === 'encounter'
      ? `<button type="submit" name="encounter" value="">Continue without an encounter</button>`
      : '';
  const q = new URLSearchParams();
  if (v.query.name !== undefined) q.set('name', v.query.name);
  if (v.query.birthdate !== undefined) q.set('birthdate', v.query.birthdate);
  const pageLink = (n: number, label: string) => {
    q.set('page', String(n));
    return `<a href="${e(`${v.searchAction}?${q.toString()}`)}">${label}</a>`;
  };
  const nav = [
    v.page > 1 ? pageLink(v.page - 1, 'Previous') : '',
    v.nextPage !== undefined ? pageLink(v.nextPage, 'Next') : '',
  ]
    .filter(Boolean)
    .join(' ');
  return page(
    `Choose a ${what}`,
    `<h1>Choose a ${what}</h1>
<p>for <strong>${e(v.client.name)}</strong></p>
${search}
${error}
<form method="post" action="${e(v.action)}">
${csrfInput(v.csrf)}
<ul>
${rows === '' ? `<li>No ${what}s found.</li>` : rows}
</ul>
${skip}
</form>
<nav>${nav}</nav>`,
  );
}

function consent(v: ConsentView): string {
  const items = v.scopes
    .map((s, i) => {
      const id = `scope-${i}`;
      return `<li${s.narrows === undefined ? '' : ' class="granular"'}><input type="checkbox" id="${id}" name="scope" value="${e(s.value)}"${
        s.checked ? ' checked' : ''
      }> <label for="${id}" style="display:inline">${e(s.label)} <code>${e(s.value)}</code></label></li>`;
    })
    .join('\n');
  const who = v.patientSummary;
  const patient =
    v.patient === undefined
      ? ''
      : `<p>Patient: <strong>${e(who?.name ?? v.patient)}</strong>${
          who?.birthDate === undefined ? '' : ` (born ${e(who.birthDate)})`
        } <small>id ${e(v.patient)}</small></p>`;
  const offline = v.offline
    ? '<p>This app asks to keep access when you are not using it (offline access).</p>'
    : '';
  return page(
    'Allow access',
    `<h1>Allow ${e(v.client.name)} access?</h1>
<p>Signed in as <strong>${e(v.user.username)}</strong></p>
${patient}
<form method="post" action="${e(v.action)}">
${csrfInput(v.csrf)}
<ul>
${items}
</ul>
${offline}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

function error(v: ErrorView): string {
  return page(v.title, `<h1>${e(v.title)}</h1>\n<p role="alert">${e(v.message)}</p>`);
}

export const defaultViews: InteractionViews = { login, patientPicker, consent, error };

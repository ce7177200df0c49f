/**
 * The interaction pages (login → patient picker → consent) render through this interface, so the
 * launch UI can supply styled pages. Every form must post to `action`, carry the hidden CSRF field
 * (`csrf.name` = `csrf.value`), and follow ../shared/CONTRACT.md's markup.
 */

import type { PatientSummary } from '../types.js';

export interface CsrfField {
  readonly name: string;
  readonly value: string;
}

export interface ClientLabel {
  readonly clientId: string;
  readonly name: string;
}

export interface LoginView {
  readonly action: string;
  readonly csrf: CsrfField;
  readonly client: ClientLabel;
  readonly username?: string | undefined;
  /** Shown above the form after a failed attempt. */
  readonly error?: string | undefined;
}

export interface PatientPickerView {
  readonly action: string;
  readonly csrf: CsrfField;
  readonly client: ClientLabel;
  /** The search form re-submits to this URL with GET (`name`, `birthdate`, `page`). */
  readonly searchAction: string;
  readonly query: { readonly name?: string | undefined; readonly birthdate?: string | undefined };
  readonly patients: readonly {
    readonly id: string;
    readonly name: string;
    readonly birthDate?: string | undefined;
    readonly gender?: string | undefined;
    readonly identifier?: string | undefined;
  }[];
  readonly page: number;
  readonly nextPage?: number | undefined;
  readonly error?: string | undefined;
  /** `patient` (picker posts `patient=<id>`) or `encounter` (posts `encounter=<id>`). */
  readonly kind: 'patient' | 'encounter';
}

export interface ConsentScopeOption {
  /** The checkbox value: the scope exactly. */
  readonly value: string;
  /** A human description. */
  readonly label: string;
  /** Requested scopes are checked by default; granular alternatives are not. */
  readonly checked: boolean;
  /** Set on a granular category alternative: the whole-type scope it narrows. */
  readonly narrows?: string | undefined;
}

export interface ConsentView {
  readonly action: string;
  readonly csrf: CsrfField;
  readonly client: ClientLabel;
  readonly user: { readonly username: string; readonly fhirUser?: string | undefined };
  /** The patient's id, and who that is when the patient search could tell. */
  readonly patient?: string | undefined;
  readonly patientSummary?: PatientSummary | undefined;
  readonly scopes: readonly ConsentScopeOption[];
  /** True when offline_access is asked for (the page should say the app keeps access). */
  readonly offline: boolean;
}

export interface ErrorView {
  readonly title: string;
  readonly message: string;
}

export interface InteractionViews {
  login(view: LoginView): string;
  patientPicker(view: PatientPickerView): string;
  consent(view: ConsentView): string;
  error(view: ErrorView): string;
}

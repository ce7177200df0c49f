import {
  STATIC_SCOPES,
  formatScope,
  intersectAll,
  parseScopes,
  type ClinicalScope,
  type StaticScope,
} from '../scopes/index.js';

/**
 * The granting function: what a token may carry. Pure; table-tested.
 *
 *   granted = requested ∩ client's allowed ∩ user's choice on the consent page ∩ roles' limits
 *
 * Clinical scopes intersect by the scope algebra (wildcards, permissions, `?query` filters), written
 * in the version they were requested in where that version can say them (v1 in → v1 out).
 */
export interface GrantInput {
  /** The `scope` parameter as requested. */
  readonly requested: string;
  /** The client's registered scopes; undefined: any. */
  readonly clientAllowed: string | undefined;
  /**
   * The scopes the user kept on the consent page (checked boxes, possibly granular alternatives the
   * page offered); undefined when there is no consent step (refresh, backend services).
   */
  readonly userChoice?: readonly string[] | undefined;
  /** What the roles (the user's; the client's for backend services) allow, as scope strings. */
  readonly roleLimits: readonly string[];
  /** `user`: an end-user flow (patient/ and user/ scopes); `system`: backend services (system/ only). */
  readonly flow: 'user' | 'system';
  /** Whether the client may receive refresh tokens (else offline_access/online_access are dropped). */
  readonly refreshAllowed?: boolean | undefined;
  /** A Patient user (fhirUser Patient/…) never gets user/ scopes: only their own compartment. */
  readonly patientUser?: boolean | undefined;
}

export interface GrantResult {
  /** Every granted scope, statics first, as the token's `scope`. */
  readonly scope: string;
  readonly static: readonly StaticScope[];
  readonly clinical: readonly ClinicalScope[];
}

const REFRESH_SCOPES: readonly StaticScope[] = ['offline_access', 'online_access'];

function contextAllowed(s: ClinicalScope, input: GrantInput): boolean {
  if (input.flow === 'system') return s.context === 'system';
  if (s.context === 'system') return false;
  return !(input.patientUser === true && s.context === 'user');
}

/** The grantable clinical and static scopes before the user's choice. */
export function grantable(input: Omit<GrantInput, 'userChoice'>): GrantResult {
  const req = parseScopes(input.requested);
  const allowed = input.clientAllowed === undefined ? undefined : parseScopes(input.clientAllowed);
  let statics = input.flow === 'system' ? [] : req.static;
  if (allowed !== undefined) statics = statics.filter((s) => allowed.static.includes(s));
  if (input.refreshAllowed !== true) statics = statics.filter((s) => !REFRESH_SCOPES.includes(s));
  let clinical = req.clinical.filter((s) => contextAllowed(s, input));
  if (allowed !== undefined) clinical = intersectAll(clinical, allowed.clinical);
  clinical = intersectAll(clinical, parseScopes(input.roleLimits.join(' ')).clinical);
  return result(statics, clinical);
}

/** The final grant: the grantable set narrowed to the user's choice when there was one. */
export function grantScopes(input: GrantInput): GrantResult {
  const base = grantable(input);
  if (input.userChoice === undefined) return base;
  const chosen = parseScopes(input.userChoice.join(' '));
  const statics = base.static.filter((s) => chosen.static.includes(s));
  const clinical = intersectAll(chosen.clinical, base.clinical);
  return result(statics, clinical);
}

function result(statics: readonly StaticScope[], clinical: readonly ClinicalScope[]): GrantResult {
  const orderedStatics = STATIC_SCOPES.filter((s) => statics.includes(s));
  const parts = [...orderedStatics, ...clinical.map((c) => formatScope(c))];
  return { scope: parts.join(' '), static: orderedStatics, clinical };
}

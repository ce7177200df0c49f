import type { AccessConstraint } from '../../store/protocol.js';
import type { Access, Grant, Permission } from './grant.js';
import {
  allResourceTypes,
  inPatientCompartment,
  NOT_UNDER_PATIENT_SCOPES,
} from './resource-types.js';

/** Who the token speaks for, as far as compartment binding needs it. */
export interface Subject {
  /** The launch-context patient (`patient` claim). */
  patient: string | undefined;
  /** `fhirUser` (`Practitioner/1`, `Patient/123`). */
  fhirUser: string | undefined;
}

/** Why a grant that names a type and permission gives no access to it. */
export type ExclusionRule =
  | 'no-patient-context'
  | 'not-readable-under-patient-scope'
  | 'patient-scope-cannot-write-outside-compartment';

type GrantResult = { access: Access } | { excluded: ExclusionRule };

/** The patient a grant confines to, `null` for none, or undefined when it needs one and has none. */
function confinement(g: Grant, s: Subject): string | null | undefined {
  if (g.context === 'patient') return s.patient;
  if (g.context === 'user' && s.fhirUser?.startsWith('Patient/') === true) {
    return s.fhirUser.slice('Patient/'.length);
  }
  return null;
}

function grantAccess(g: Grant, type: string, perm: Permission, s: Subject): GrantResult {
  const filter = g.query === undefined ? {} : { anyOf: [g.query] };
  const patient = confinement(g, s);
  if (patient === undefined) return { excluded: 'no-patient-context' };
  if (patient === null) return { access: filter };
  if (NOT_UNDER_PATIENT_SCOPES.has(type)) return { excluded: 'not-readable-under-patient-scope' };
  if (!inPatientCompartment(type)) {
    return perm === 'r' || perm === 's'
      ? { access: filter }
      : { excluded: 'patient-scope-cannot-write-outside-compartment' };
  }
  return { access: { compartment: `Patient/${patient}`, ...filter } };
}

function isUnrestricted(a: Access): boolean {
  return a.compartment === undefined && a.anyOf === undefined;
}

/**
 * The union of several grants' access, under-approximated where the constraint cannot express it
 * exactly (the result never allows more than the union).
 */
export function unionAccess(list: readonly Access[]): Access | undefined {
  if (list.length === 0) return undefined;
  if (list.some(isUnrestricted)) return {};
  const compartment = list.find((a) => a.compartment !== undefined)?.compartment;
  const counted = list.filter((a) => a.compartment === undefined || a.compartment === compartment);
  const out: Access = compartment === undefined ? {} : { compartment };
  if (counted.some((a) => a.anyOf === undefined)) return out;
  out.anyOf = [...new Set(counted.flatMap((a) => a.anyOf ?? []))];
  return out;
}

/** What both `a` and `b` allow, under-approximated; undefined when nothing can be expressed. */
export function intersectAccess(a: Access, b: Access): Access | undefined {
  if (
    a.compartment !== undefined &&
    b.compartment !== undefined &&
    a.compartment !== b.compartment
  ) {
    return undefined;
  }
  const compartment = a.compartment ?? b.compartment;
  const out: Access = compartment === undefined ? {} : { compartment };
  if (a.anyOf === undefined && b.anyOf === undefined) return out;
  if (a.anyOf === undefined || b.anyOf === undefined) {
    out.anyOf = a.anyOf ?? b.anyOf ?? [];
    return out;
  }
  const both = a.anyOf.filter((q) => b.anyOf?.includes(q) === true);
  if (both.length === 0) return undefined;
  out.anyOf = both;
  return out;
}

export type TypeAccessResult =
  | { ok: true; access: Access; scopes: string[] }
  | { ok: false; rule: 'scope-missing' | ExclusionRule };

/** The access `grants` give to `type` for one permission. */
export function accessFor(
  grants: readonly Grant[],
  type: string,
  perm: Permission,
  s: Subject,
): TypeAccessResult {
  const results = grants
    .filter((g) => (g.resourceType === type || g.resourceType === '*') && g.permissions.has(perm))
    .map((g) => ({ g, r: grantAccess(g, type, perm, s) }));
  const accesses: Access[] = [];
  const scopes: string[] = [];
  let excluded: ExclusionRule | undefined;
  for (const { g, r } of results) {
    if ('access' in r) {
      accesses.push(r.access);
      scopes.push(g.scope);
    } else excluded ??= r.excluded;
  }
  const union = unionAccess(accesses);
  if (union === undefined) return { ok: false, rule: excluded ?? 'scope-missing' };
  return { ok: true, access: union, scopes };
}

/** The access for `type` needing every permission in `perms`. */
export function accessForAll(
  grants: readonly Grant[],
  type: string,
  perms: readonly Permission[],
  s: Subject,
): TypeAccessResult | { ok: false; rule: 'scopes-do-not-combine' } {
  let acc: Access | undefined;
  const scopes = new Set<string>();
  for (const p of perms) {
    const r = accessFor(grants, type, p, s);
    if (!r.ok) return r;
    r.scopes.forEach((x) => scopes.add(x));
    acc = acc === undefined ? r.access : intersectAccess(acc, r.access);
    if (acc === undefined) return { ok: false, rule: 'scopes-do-not-combine' };
  }
  return { ok: true, access: acc ?? {}, scopes: [...scopes] };
}

/**
 * The store's AccessConstraint for a request needing `perms` on every type it touches: each type
 * the grants reach, with its compartment and filters. A wildcard grant that is not confined becomes
 * the `*` entry; a confined one is spelt out per type, so AuditEvent and Group stay invisible.
 */
const constraintCache = new WeakMap<readonly Grant[], Map<string, AccessConstraint>>();

/**
 * {@link computeConstraint}, memoised per grant list (grant lists are cached per verified token), so
 * a token's constraint is computed once, and encoded once, not on every request.
 */
export function buildConstraint(
  grants: readonly Grant[],
  perms: readonly Permission[],
  s: Subject,
): AccessConstraint {
  let byKey = constraintCache.get(grants);
  if (byKey === undefined) {
    byKey = new Map();
    constraintCache.set(grants, byKey);
  }
  const key = `${perms.join('')}\u0000${s.patient ?? ''}\u0000${s.fhirUser ?? ''}`;
  let c = byKey.get(key);
  if (c === undefined) {
    c = computeConstraint(grants, perms, s);
    byKey.set(key, c);
  }
  return c;
}

function computeConstraint(
  grants: readonly Grant[],
  perms: readonly Permission[],
  s: Subject,
): AccessConstraint {
  const relevant = grants.filter((g) => perms.some((p) => g.permissions.has(p)));
  const wildcard = relevant.filter((g) => g.resourceType === '*');
  const confinedWildcard = wildcard.some((g) => confinement(g, s) !== null);
  const types = new Set(relevant.filter((g) => g.resourceType !== '*').map((g) => g.resourceType));
  if (confinedWildcard) allResourceTypes().forEach((t) => types.add(t));
  const out: AccessConstraint = { types: {} };
  if (wildcard.length > 0 && !confinedWildcard) {
    const star = accessForAll(wildcard, '*', perms, s);
    if (star.ok) out.types['*'] = star.access;
  }
  for (const t of types) {
    const r = accessForAll(grants, t, perms, s);
    if (r.ok) out.types[t] = r.access;
  }
  return out;
}

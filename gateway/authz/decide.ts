import type { AccessConstraint } from '../../store/protocol.js';
import {
  accessFor,
  accessForAll,
  buildConstraint,
  intersectAccess,
  type Subject,
} from './access.js';
import type { DataAction } from './data-actions.js';
import type { Access, Grant, Permission } from './grant.js';
import type { FhirInteraction } from './interaction.js';
import { requirementOf } from './requirements.js';
import type { RoleSet } from './roles.js';

/** Everything authorization looks at: the token's grants, subject and roles, and the role catalogue. */
export interface AuthzInput {
  grants: readonly Grant[];
  subject: Subject;
  roleNames: readonly string[];
  roles: RoleSet;
  /**
   * Whether the backend enforces the constraint inside its queries (the built-in store). When not,
   * chains and `_has` under patient-confined access are refused: the gateway cannot confine them.
   */
  inQueryEnforcement: boolean;
}

export type DenyRule =
  | 'scope-missing'
  | 'scopes-do-not-combine'
  | 'no-patient-context'
  | 'not-readable-under-patient-scope'
  | 'patient-scope-cannot-write-outside-compartment'
  | 'history-under-patient-scope'
  | 'system-scope-required'
  | 'role-missing'
  | 'operation-not-supported'
  | 'audit-trail-read-only'
  | 'chain-not-enforceable'
  | 'transaction-entry-denied';

export interface Allow {
  allow: true;
  reason: string;
  /** The constraint the backend must apply; confines every type the request can reach. */
  constraint: AccessConstraint;
  /** The scopes that allowed it. */
  scopes: string[];
}

export interface Deny {
  allow: false;
  status: 403 | 405;
  rule: DenyRule;
  reason: string;
  /** A scope problem (RFC 6750 `insufficient_scope`) rather than a role or policy one. */
  insufficientScope: boolean;
}

export type Decision = Allow | Deny;

const SCOPE_RULES: ReadonlySet<DenyRule> = new Set([
  'scope-missing',
  'scopes-do-not-combine',
  'no-patient-context',
  'not-readable-under-patient-scope',
  'patient-scope-cannot-write-outside-compartment',
  'system-scope-required',
]);

function deny(rule: DenyRule, reason: string, status: 403 | 405 = 403): Deny {
  return { allow: false, status, rule, reason, insufficientScope: SCOPE_RULES.has(rule) };
}

function describe(ix: FhirInteraction): string {
  const target = [ix.resourceType, ix.id].filter((x) => x !== undefined).join('/');
  const what = ix.kind === 'operation' ? `$${ix.operation ?? ''}` : ix.kind;
  return `${ix.conditional ? 'conditional ' : ''}${what}${target === '' ? '' : ` of ${target}`}`;
}

/** Permissions that govern the other types a request can reach (includes, chains, references). */
function reachPerms(ix: FhirInteraction): Permission[] {
  return ix.kind === 'search-type' || ix.kind === 'search-system' || ix.kind.startsWith('history')
    ? ['s']
    : ['r'];
}

function usesChainsOrHas(query: URLSearchParams): boolean {
  for (const name of query.keys()) {
    if (name.startsWith('_has:') || /^[^_][^:]*(:[A-Za-z]+)?\./.test(name)) return true;
  }
  return false;
}

function sameAccess(a: Access | undefined, b: Access): boolean {
  return (
    a !== undefined &&
    a.compartment === b.compartment &&
    (a.anyOf ?? []).join('\u0000') === (b.anyOf ?? []).join('\u0000') &&
    (a.anyOf === undefined) === (b.anyOf === undefined)
  );
}

/** Per shared (memoised) constraint: its copies with one type's access replaced, by type and access. */
const retargeted = new WeakMap<AccessConstraint, Map<string, AccessConstraint>>();

/**
 * `reach` with `type` given `access`. The shared constraint is never mutated: a different target
 * access gets a copy, made once per (constraint, type, access) and reused, so the same token making
 * the same kind of request sends the same object (whose header form the proxy encodes once).
 */
function withTypeAccess(reach: AccessConstraint, type: string, access: Access): AccessConstraint {
  let copies = retargeted.get(reach);
  if (copies === undefined) {
    copies = new Map();
    retargeted.set(reach, copies);
  }
  const key = `${type}\u0000${access.compartment ?? ''}\u0000${access.anyOf === undefined ? '' : `\u0001${access.anyOf.join('\u0000')}`}`;
  let c = copies.get(key);
  if (c === undefined) {
    c = { types: { ...reach.types, [type]: access } };
    copies.set(key, c);
  }
  return c;
}

function isConfined(c: AccessConstraint): boolean {
  return Object.values(c.types).some((a) => a.compartment !== undefined);
}

/**
 * Decides one (non-bundle) FHIR interaction: scope AND role AND compartment. Pure: same input, same
 * decision. An allow carries the access constraint the backend must apply.
 */
export function authorize(ix: FhirInteraction, input: AuthzInput): Decision {
  if (ix.kind === 'capabilities')
    return {
      allow: true,
      reason: 'capabilities need no token',
      constraint: { types: {} },
      scopes: [],
    };
  if (ix.kind === 'bundle')
    return deny('operation-not-supported', 'a bundle is decided entry by entry');
  const req = requirementOf(ix);
  if (req === undefined)
    return deny('operation-not-supported', `operation $${ix.operation ?? ''} is not supported`);
  const type = ix.resourceType;
  const isAudit = type === 'AuditEvent';
  if (
    isAudit &&
    !(['read', 'vread', 'search-type', 'history-instance'] as string[]).includes(ix.kind)
  ) {
    return deny('audit-trail-read-only', 'the audit trail is read-only', 405);
  }
  const actions: DataAction[] = isAudit ? ['auditRead'] : req.actions;
  if (req.systemOnly === true) {
    const covered = input.grants.some(
      (g) =>
        g.context === 'system' &&
        (type === undefined || g.resourceType === '*' || g.resourceType === type) &&
        req.perms.every((p) => g.permissions.has(p)),
    );
    if (!covered) return deny('system-scope-required', `${describe(ix)} needs a system/ scope`);
  }
  let constraint: AccessConstraint;
  let scopes: string[];
  if (type === undefined) {
    const perms = req.perms.length === 0 ? (['s'] as Permission[]) : req.perms;
    constraint = buildConstraint(input.grants, perms, input.subject);
    scopes = input.grants
      .filter((g) => perms.some((p) => g.permissions.has(p)))
      .map((g) => g.scope);
    if (Object.keys(constraint.types).length === 0) {
      return deny('scope-missing', `no scope allows ${describe(ix)}`);
    }
    if (req.notConfined === true && isConfined(constraint)) {
      return deny(
        'history-under-patient-scope',
        'system history is not available under patient-confined scopes',
      );
    }
    for (const t of (ix.query.get('_type') ?? '').split(',').filter((x) => x !== '')) {
      if (!perms.every((p) => accessFor(input.grants, t, p, input.subject).ok)) {
        return deny('scope-missing', `no scope allows searching ${t}`);
      }
    }
  } else {
    const r = accessForAll(input.grants, type, req.perms, input.subject);
    if (!r.ok) {
      const why: Record<typeof r.rule, string> = {
        'scope-missing': `no scope grants ${req.perms.join('')} on ${type}`,
        'scopes-do-not-combine': `the scopes for ${req.perms.join('')} on ${type} do not combine`,
        'no-patient-context': 'a patient/ scope needs a patient in context',
        'not-readable-under-patient-scope': `${type} is not available under patient-confined scopes`,
        'patient-scope-cannot-write-outside-compartment': `${type} is outside the patient compartment and cannot be written under patient scopes`,
      };
      return deny(r.rule, `${describe(ix)} denied: ${why[r.rule]}`);
    }
    if (req.notConfined === true && r.access.compartment !== undefined) {
      return deny(
        'history-under-patient-scope',
        `${describe(ix)} is not available under patient-confined scopes`,
      );
    }
    const reach = buildConstraint(input.grants, reachPerms(ix), input.subject);
    constraint = sameAccess(reach.types[type], r.access)
      ? reach
      : withTypeAccess(reach, type, r.access);
    scopes = r.scopes;
  }
  if (!input.inQueryEnforcement && isConfined(constraint) && usesChainsOrHas(ix.query)) {
    return deny(
      'chain-not-enforceable',
      'chained parameters and _has are not available under patient-confined scopes with this backend',
    );
  }
  for (const action of actions) {
    if (!input.roles.allows(input.roleNames, action, type)) {
      return deny(
        'role-missing',
        `${describe(ix)} needs a role granting "${action}"${type === undefined ? '' : ` on ${type}`}`,
      );
    }
  }
  const confinedTo = type === undefined ? undefined : constraint.types[type]?.compartment;
  return {
    allow: true,
    reason: `${describe(ix)} allowed by ${scopes.join(' ')}${confinedTo === undefined ? '' : ` within ${confinedTo}`}`,
    constraint,
    scopes,
  };
}

/** Merges two allowed constraints into one that allows no more than either (for transactions). */
export function mergeConstraints(
  a: AccessConstraint,
  b: AccessConstraint,
): AccessConstraint | undefined {
  const out: AccessConstraint = { types: { ...a.types } };
  for (const [t, access] of Object.entries(b.types)) {
    const mine = out.types[t];
    if (mine === undefined) {
      out.types[t] = access;
      continue;
    }
    const both = intersectAccess(mine, access);
    if (both === undefined) return undefined;
    out.types[t] = both;
  }
  return out;
}

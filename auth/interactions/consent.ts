import type { ClientRecord } from '../clients/clients.js';
import { grantable, grantScopes, type GrantResult } from '../grant/grant-scopes.js';
import { granularOptions } from '../grant/granular-options.js';
import type { RoleCatalog } from '../roles/index.js';
import { formatScope } from '../scopes/index.js';
import type { UserInfo } from '../types.js';
import { describeScope } from './describe-scope.js';
import type { ConsentScopeOption } from './views.js';

/** The granting input of one consent decision. */
export function grantInput(
  requested: string,
  client: ClientRecord,
  user: UserInfo,
  roles: RoleCatalog,
) {
  return {
    requested,
    clientAllowed: client.scope,
    roleLimits: roles.limits(user.roles),
    flow: 'user' as const,
    refreshAllowed: client.grantTypes.includes('refresh_token'),
    patientUser: user.fhirUser?.startsWith('Patient/') === true,
  };
}

/** The checkboxes: every grantable scope (checked), then category alternatives (unchecked). */
export function consentOptions(
  requested: string,
  client: ClientRecord,
  user: UserInfo,
  roles: RoleCatalog,
): ConsentScopeOption[] {
  const base = grantable(grantInput(requested, client, user, roles));
  const out: ConsentScopeOption[] = base.static.map((s) => ({
    value: s,
    label: describeScope(s),
    checked: true,
  }));
  for (const c of base.clinical) {
    const value = formatScope(c);
    out.push({ value, label: describeScope(value), checked: true });
    for (const g of granularOptions(c)) {
      out.push({ value: g.value, label: g.label, checked: false, narrows: g.narrows });
    }
  }
  return out;
}

/** The grant: exactly the checked boxes, never more than grantable. */
export function decideGrant(
  requested: string,
  chosen: readonly string[],
  client: ClientRecord,
  user: UserInfo,
  roles: RoleCatalog,
): GrantResult {
  return grantScopes({ ...grantInput(requested, client, user, roles), userChoice: chosen });
}

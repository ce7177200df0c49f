import type { Principal } from '../auth/principal.js';
import { authorizeBundle, type BundleDecision } from '../authz/decide-bundle.js';
import { authorize as decide, type AuthzInput } from '../authz/decide.js';
import type { Grant } from '../authz/grant.js';
import type { RoleSet } from '../authz/roles.js';
import { FhirError, issue } from '../../store/fhir/outcome.js';
import { denied } from '../errors.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';
import { jsonBody } from './parse-interaction.js';

export interface AuthorizeDeps {
  roles: RoleSet;
  grantsOf: (principal: Principal) => readonly Grant[];
  inQueryEnforcement: boolean;
  realm: string;
}

/** The authorization input for a verified principal. */
export function authzInput(deps: AuthorizeDeps, principal: Principal): AuthzInput {
  return {
    grants: deps.grantsOf(principal),
    subject: { patient: principal.patient, fhirUser: principal.fhirUser },
    roleNames: principal.roles,
    roles: deps.roles,
    inQueryEnforcement: deps.inQueryEnforcement,
  };
}

const bundles = new WeakMap<GatewayContext, BundleDecision>();

/** The per-entry decisions of a batch or transaction request, once authorized. */
export function bundleDecisionOf(ctx: GatewayContext): BundleDecision | undefined {
  return bundles.get(ctx);
}

/**
 * Decides the request (scope ∧ role ∧ compartment) with the pure authorize function. A denial is a
 * 403 naming the rule (`insufficient_scope` when a scope is the problem); an allow carries the
 * access constraint the proxy sends on.
 */
export function authorizeRequest(deps: AuthorizeDeps): GatewayMiddleware {
  return async function authorizeStep(ctx, next) {
    const ix = ctx.state.interaction;
    const principal = ctx.state.principal;
    if (ix === undefined || principal === undefined)
      throw new Error('authorize runs after authenticate and parse');
    const input = authzInput(deps, principal);
    if (ix.kind === 'bundle') {
      const b = authorizeBundle(jsonBody(ctx.state.body), input);
      bundles.set(ctx, b);
      ctx.state.audit.subtype = b.type;
      ctx.state.decision = b.decision;
    } else {
      ctx.state.decision = decide(ix, input);
    }
    const d = ctx.state.decision;
    if (!d.allow) {
      ctx.state.audit.reason = `${d.rule}: ${d.reason}`;
      if (d.status === 405)
        throw new FhirError(405, [issue('error', 'not-supported', d.reason)], { allow: 'GET' });
      throw denied(deps.realm, d.reason, d.insufficientScope, d.rule);
    }
    await next();
  };
}

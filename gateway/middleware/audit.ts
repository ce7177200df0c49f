import type { Logger } from '../../common/logger.js';
import type { RestAuditInput } from '../audit/events.js';
import type { AuditTrail } from '../audit/trail.js';
import { auditAction, auditSubtype, parseInteraction } from '../authz/interaction.js';
import { dropBody, FHIR_JSON, renderError } from '../errors.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';
import { serverError } from '../../store/fhir/outcome.js';

export interface AuditStepDeps {
  trail: AuditTrail;
  /** The FHIR base URL, recorded as the audit source site. */
  site: string;
  log: Logger;
  onRecorded?: (ctx: GatewayContext) => void;
  /** Benchmark only (never set from configuration): describe the request but do not record it. */
  unauditedForBench?: boolean;
}

function subtypeAndAction(ctx: GatewayContext): {
  subtype: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
} {
  const a = ctx.state.audit;
  let ix = ctx.state.interaction;
  if (ix === undefined) {
    try {
      ix = parseInteraction(ctx.method, ctx.state.fhirPath, new URLSearchParams(ctx.querystring));
    } catch {
      return { subtype: a.subtype ?? 'unknown', action: a.action ?? 'E' };
    }
  }
  return { subtype: a.subtype ?? auditSubtype(ix), action: a.action ?? auditAction(ix) };
}

/**
 * Wraps everything after it: errors become OperationOutcomes here, and in a `finally` the request
 * is recorded (denials and failures too) and made durable before the response is released. When
 * the audit cannot be written the response is withheld and replaced by a 500: no audit, no data.
 */
export function audit(deps: AuditStepDeps): GatewayMiddleware {
  return async function auditStep(ctx, next) {
    try {
      await next();
    } catch (err) {
      renderError(ctx, err, deps.log);
    } finally {
      const a = ctx.state.audit;
      if (a.skip !== true) {
        const { subtype, action } = subtypeAndAction(ctx);
        const qs = ctx.querystring;
        const rest: RestAuditInput = {
          requestId: ctx.state.requestId,
          recorded: new Date(),
          site: deps.site,
          interaction: subtype,
          action,
          status: ctx.status,
          principal: ctx.state.principal,
          clientIp: ctx.ip,
          method: ctx.method,
          url: qs === '' ? ctx.state.fhirPath : `${ctx.state.fhirPath}?${qs}`,
          isQuery: qs !== '' || subtype.startsWith('search') || subtype.startsWith('history'),
          entities: a.entities,
          patients: a.patients,
          entitiesByPatient: a.entitiesByPatient,
          customHeaders: a.customHeaders,
          reason: a.reason,
        };
        try {
          // The events are built where they are chained (the SQLite writer thread).
          if (deps.unauditedForBench !== true) await deps.trail.recordRest(rest);
          deps.onRecorded?.(ctx);
        } catch (err) {
          deps.log.error(
            { err, requestId: ctx.state.requestId },
            'audit write failed; response withheld',
          );
          dropBody(ctx);
          for (const h of ['etag', 'location', 'content-location', 'last-modified']) ctx.remove(h);
          const fail = serverError();
          ctx.status = 500;
          ctx.body = JSON.stringify(fail.outcome);
          ctx.type = FHIR_JSON;
        }
      }
    }
  };
}

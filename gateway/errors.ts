import type { Logger } from '../common/logger.js';
import { FhirError, issue, isFhirError, serverError } from '../store/fhir/outcome.js';
import type { GatewayContext } from './state.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

/** An RFC 6750 `WWW-Authenticate: Bearer` challenge. */
export function bearerChallenge(realm: string, error?: string, description?: string): string {
  const parts = [`realm=${quote(realm)}`];
  if (error !== undefined) parts.push(`error=${quote(error)}`);
  if (description !== undefined) parts.push(`error_description=${quote(description)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** 401 without credentials: a bare challenge (no error code), per RFC 6750 §3.1. */
export function noCredentials(realm: string): FhirError {
  return new FhirError(401, [issue('error', 'login', 'an access token is required')], {
    'www-authenticate': bearerChallenge(realm),
  });
}

/** 401 for a bad token: `error="invalid_token"`. */
export function invalidToken(realm: string, description: string): FhirError {
  return new FhirError(401, [issue('error', 'login', description)], {
    'www-authenticate': bearerChallenge(realm, 'invalid_token', description),
  });
}

/** 403: `insufficient_scope` for a scope problem; a plain forbidden for a role or policy one. */
export function denied(
  realm: string,
  reason: string,
  insufficientScope: boolean,
  rule: string,
): FhirError {
  const headers: Record<string, string> = insufficientScope
    ? { 'www-authenticate': bearerChallenge(realm, 'insufficient_scope', reason) }
    : {};
  const i = issue('error', 'forbidden', reason);
  i.details = { text: rule };
  return new FhirError(403, [i], headers);
}

/** Answers any error as an OperationOutcome; an unknown error is a generic 500 (logged, not shown). */
export function renderError(ctx: GatewayContext, err: unknown, log: Logger): void {
  let fhir: FhirError;
  if (isFhirError(err)) {
    fhir = err;
  } else {
    log.error({ err, requestId: ctx.state.requestId }, 'unhandled gateway error');
    fhir = serverError();
  }
  ctx.status = fhir.status;
  for (const [name, value] of Object.entries(fhir.headers)) ctx.set(name, value);
  ctx.body = JSON.stringify(fhir.outcome);
  ctx.type = FHIR_JSON;
  ctx.state.audit.reason ??= fhir.issues[0]?.details?.text ?? fhir.issues[0]?.diagnostics;
}

/** Lets go of a response body not sent after all (a stream is destroyed, whatever it holds open). */
export function dropBody(ctx: GatewayContext): void {
  const body: unknown = ctx.body;
  if (
    body !== null &&
    typeof body === 'object' &&
    'destroy' in body &&
    typeof body.destroy === 'function'
  ) {
    (body as { destroy(): void }).destroy();
  }
  ctx.body = null;
}

import type { ParameterizedContext, Middleware } from 'koa';
import type { Principal } from './auth/principal.js';
import type { Decision } from './authz/decide.js';
import type { FhirInteraction } from './authz/interaction.js';

/** What the gateway's middleware steps learn about a request, typed through Koa's state. */
export interface GatewayState {
  requestId: string;
  startedAt: number;
  /** The path below the FHIR base, without leading slash (`Observation/1`). */
  fhirPath: string;
  principal?: Principal;
  interaction?: FhirInteraction;
  decision?: Decision;
  /** The raw request body (bounded by MAX_BODY_BYTES), for methods that carry one. */
  body?: Buffer;
  /** What the audit record needs beyond the request itself. */
  audit: {
    subtype?: string;
    action?: 'C' | 'R' | 'U' | 'D' | 'E';
    entities: string[];
    patients: string[];
    /** Which of `entities` are each patient's, when known (see RestAuditInput). */
    entitiesByPatient?: ReadonlyMap<string, readonly string[]>;
    reason?: string | undefined;
    customHeaders: Record<string, string>;
    /** Do not record this request (CORS preflight). */
    skip?: boolean;
  };
}

export type GatewayContext = ParameterizedContext<GatewayState>;
export type GatewayMiddleware = Middleware<GatewayState>;

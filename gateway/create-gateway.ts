import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { AuditTrail } from './audit/trail.js';
import { createBulkData, socketSource } from './bulk/index.js';
import { InternalTokens } from './auth/internal-tokens.js';
import type { Principal } from './auth/principal.js';
import { createTokenVerifier } from './auth/verify-token.js';
import { grantsCache } from './authz/grants.js';
import { RoleSet } from './authz/roles.js';
import { auditEventEndpoint } from './endpoints/audit-events.js';
import { authzEndpoint } from './endpoints/authz.js';
import { openEndpoints, type SmartConfigurationSource } from './endpoints/metadata.js';
import { createMetrics, metricsHandler, type GatewayMetrics } from './metrics.js';
import { audit } from './middleware/audit.js';
import { authenticate } from './middleware/authenticate.js';
import { authorizeRequest } from './middleware/authorize.js';
import { compressAnswers } from './middleware/compress.js';
import { corsAndSecurityHeaders, type CorsOptions } from './middleware/cors.js';
import { customAuditHeaders } from './middleware/custom-audit-headers.js';
import { parseFhirInteraction } from './middleware/parse-interaction.js';
import { proxyToBackend } from './middleware/proxy.js';
import { DEFAULT_RATE_LIMIT, rateLimit, type RateLimitOptions } from './middleware/rate-limit.js';
import { requestId } from './middleware/request-id.js';
import { constraintAllows, patientCompartments } from '../store/index.js';
import { createUrlRewriter } from './proxy/rewrite.js';
import { Upstream, type UpstreamOptions } from './proxy/upstream.js';
import type { GatewayState } from './state.js';

/** What the gateway needs from the authorization server, injected by the composition root. */
export interface GatewayAuth {
  /** auth's signing keys (in-process JWKS following rotation, or createRemoteJWKSet(AUTH_JWKS_URL)). */
  getKey: JWTVerifyGetKey;
  /** Runs on every request, also for cached tokens. */
  isTokenAlive(claims: JWTPayload): boolean | Promise<boolean>;
  /** The SMART discovery document served at `/fhir/.well-known/smart-configuration`. */
  smartConfiguration: SmartConfigurationSource;
}

export interface GatewayOptions {
  config: Config;
  log: Logger;
  auth: GatewayAuth;
  upstream: UpstreamOptions;
  audit: AuditTrail;
  /** Default: built-in roles plus `config.rolesFile`. */
  roles?: RoleSet;
  /** Per-client token bucket; `false` turns it off. Default 20,000/s with bursts of 40,000. */
  rateLimit?: RateLimitOptions | false;
  cors?: CorsOptions;
  /** Collect Node's default process metrics in the registry (default true). */
  defaultMetrics?: boolean;
  /**
   * Benchmark only: skip writing audit records, to measure what audit costs. No configuration
   * setting reaches this; only `bench/hearth-unaudited.ts` passes it (through `startHearth`).
   */
  unauditedForBench?: boolean;
}

export interface HealthReport {
  ok: boolean;
  checks: { audit: boolean };
}

export interface Gateway {
  /** Koa middleware serving everything below the FHIR base path (`/fhir`); passes other paths on. */
  middleware: Middleware;
  /** Koa middleware answering with the Prometheus text format (mount at `/metrics`). */
  metricsHandler: Middleware;
  metrics: GatewayMetrics;
  /** The gateway's part of `/health`: the audit database answers. */
  healthCheck(): Promise<HealthReport>;
  /** A standalone Koa app (the middleware plus `/metrics` and `/health`), for tests and tools. */
  app: Koa;
  /**
   * A bearer token, valid for `ttlMs` inside this process only, that makes a request on behalf of
   * `principal` (Hearth's own callers, e.g. the patient picker reading as the signed-in user).
   */
  issueInternalToken(principal: Omit<Principal, 'exp' | 'claims'>, ttlMs?: number): string;
  close(): Promise<void>;
}

/**
 * The FHIR gateway: request id → audit → CORS and security headers → rate limit → authenticate →
 * parse the FHIR interaction → authorize → proxy (and filter) → response, as named Koa middleware.
 * Factories never listen; the composition root mounts `middleware`.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const { config, log } = opts;
  const fhirBase = config.fhirBaseUrl;
  const prefix = new URL(fhirBase).pathname.replace(/\/+$/, '');
  const roles = opts.roles ?? RoleSet.fromFile(config.rolesFile);
  const upstream = new Upstream({
    ...opts.upstream,
    authorization:
      opts.upstream.authorization ??
      (opts.upstream.isBuiltInStore ? undefined : config.fhirUpstreamAuthorization),
  });
  const rewriter = upstream.isBuiltInStore
    ? undefined
    : createUrlRewriter(fhirBase, upstream.baseUrl.toString());
  const metrics = createMetrics(opts.audit, opts.defaultMetrics ?? true);
  const internalTokens = new InternalTokens();
  const verifier = createTokenVerifier({
    issuer: config.issuer,
    audience: fhirBase,
    getKey: opts.auth.getKey,
    isTokenAlive: (c) => opts.auth.isTokenAlive(c),
  });
  const authz = {
    roles,
    grantsOf: grantsCache(),
    inQueryEnforcement: upstream.isBuiltInStore,
    realm: fhirBase,
  };
  const { socketPath, internalSecret } = opts.upstream;
  const bulk =
    upstream.isBuiltInStore && socketPath !== undefined && internalSecret !== undefined
      ? createBulkData({
          config,
          log,
          roles,
          grantsOf: authz.grantsOf,
          source: socketSource({ socketPath, internalSecret }),
        })
      : undefined;
  const steps: Middleware<GatewayState>[] = [
    requestId(prefix),
    compressAnswers(),
    audit({
      trail: opts.audit,
      site: fhirBase,
      log,
      unauditedForBench: opts.unauditedForBench === true,
      onRecorded: (ctx) => {
        metrics.observe(ctx);
      },
    }),
    corsAndSecurityHeaders(opts.cors),
    ...(opts.rateLimit === false ? [] : [rateLimit(opts.rateLimit ?? DEFAULT_RATE_LIMIT)]),
    customAuditHeaders(),
    authenticate(verifier, fhirBase, internalTokens),
    ...(bulk === undefined ? [] : [bulk.middleware]),
    openEndpoints({
      upstream,
      rewriter,
      smartConfiguration: opts.auth.smartConfiguration,
      fhirBase,
    }),
    authzEndpoint({ ...authz, upstream, allows: constraintAllows, fhirBase }),
    parseFhirInteraction(config.maxBodyBytes),
    authorizeRequest(authz),
    auditEventEndpoint({
      trail: opts.audit,
      fhirBase,
      defaultCount: config.searchDefaultCount,
      maxCount: config.searchMaxCount,
    }),
    proxyToBackend({
      upstream,
      rewriter,
      allows: constraintAllows,
      patientsOf: patientCompartments,
      log,
    }),
  ];
  const pipeline = compose(steps);
  const middleware: Middleware = async function fhirGateway(ctx, next) {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) {
      await next();
      return;
    }
    await pipeline(ctx);
  };
  const metricsMw = metricsHandler(metrics) as Middleware;
  const healthCheck = async (): Promise<HealthReport> => {
    const auditOk = await opts.audit.ping();
    return { ok: auditOk, checks: { audit: auditOk } };
  };
  const app = new Koa({ proxy: config.trustProxy });
  app.use(middleware);
  app.use(async (ctx, next) => {
    if (ctx.path === '/metrics') {
      await metricsMw(ctx, next);
      return;
    }
    if (ctx.path === '/health') {
      const h = await healthCheck();
      ctx.status = h.ok ? 200 : 503;
      ctx.body = { status: h.ok ? 'ok' : 'unavailable', checks: h.checks };
      return;
    }
    await next();
  });
  return {
    middleware,
    metricsHandler: metricsMw,
    metrics,
    healthCheck,
    app,
    issueInternalToken: (principal, ttlMs) => internalTokens.issue(principal, ttlMs),
    close: async () => {
      await bulk?.close();
      upstream.close();
    },
  };
}

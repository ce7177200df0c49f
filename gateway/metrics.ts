import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditTrail } from './audit/trail.js';
import { registerProcessMetrics } from './process-metrics.js';
import type { GatewayContext, GatewayMiddleware } from './state.js';

export interface GatewayMetrics {
  registry: Registry;
  /** Counts and times one finished request. */
  observe(ctx: GatewayContext): void;
}

/** Prometheus metrics: requests by interaction and status, latency, audit queue depth. */
export function createMetrics(trail: AuditTrail, withDefaults = true): GatewayMetrics {
  const registry = new Registry();
  if (withDefaults) registerProcessMetrics(registry);
  const requests = new Counter({
    name: 'hearth_fhir_requests_total',
    help: 'FHIR requests by interaction and HTTP status',
    labelNames: ['interaction', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'hearth_fhir_request_duration_seconds',
    help: 'FHIR request latency through the gateway, audit commit included',
    labelNames: ['interaction'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'hearth_audit_queue_depth',
    help: 'Audit records waiting for the next group commit',
    registers: [registry],
    collect() {
      this.set(trail.queueDepth());
    },
  });
  return {
    registry,
    observe(ctx) {
      const interaction = ctx.state.audit.subtype ?? ctx.state.interaction?.kind ?? 'unknown';
      requests.inc({ interaction, status: String(ctx.status) });
      latency.observe({ interaction }, (performance.now() - ctx.state.startedAt) / 1000);
    },
  };
}

/** `GET /metrics` in Prometheus text format. */
export function metricsHandler(metrics: GatewayMetrics): GatewayMiddleware {
  return async function metricsStep(ctx) {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}

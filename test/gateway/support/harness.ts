import path from 'node:path';
import type { JWTPayload } from 'jose';
import { AuditTrail } from '../../../gateway/audit/trail.js';
import {
  createGateway,
  type Gateway,
  type GatewayOptions,
} from '../../../gateway/create-gateway.js';
import { startMiniFhir, type MiniFhir } from './mini-fhir.js';
import { silentLog, tempDir, testConfig } from './temp.js';
import { testKeys, type TestKeys } from './tokens.js';

export const SECRET = 'internal-test-secret';
export const SMART = {
  issuer: 'http://localhost:8080/auth',
  authorization_endpoint: 'http://localhost:8080/auth/auth',
  token_endpoint: 'http://localhost:8080/auth/token',
  revocation_endpoint: 'http://localhost:8080/auth/token/revocation',
  introspection_endpoint: 'http://localhost:8080/auth/token/introspection',
  capabilities: ['launch-standalone'],
};

export interface Harness {
  gw: Gateway;
  fhir: MiniFhir;
  trail: AuditTrail;
  keys: TestKeys;
  revoked: Set<string>;
  dir: string;
  close(): Promise<void>;
}

/** A gateway in front of a small real FHIR server (built-in-store protocol on a Unix socket, or external over TCP). */
export async function startHarness(
  opts: {
    external?: boolean;
    /** The external upstream gzips its answers (see startMiniFhir). */
    upstreamGzip?: 'when-allowed' | 'always';
    env?: Record<string, string>;
    gateway?: Partial<GatewayOptions>;
    timeoutMs?: number;
  } = {},
): Promise<Harness> {
  const t = tempDir();
  const keys = await testKeys();
  const fhir =
    opts.external === true
      ? await startMiniFhir({ basePath: '/r4', gzip: opts.upstreamGzip })
      : await startMiniFhir({
          socketPath: path.join(t.dir, 'store.sock'),
          secret: SECRET,
          publicBase: 'http://localhost:8080/fhir',
        });
  const config = testConfig(t.dir, {
    ...(opts.external === true
      ? { FHIR_UPSTREAM: fhir.url, FHIR_UPSTREAM_AUTHORIZATION: 'Basic dXA6c3RyZWFt' }
      : {}),
    ...opts.env,
  });
  const trail = new AuditTrail({ dataDir: t.dir, sync: 'normal', log: silentLog });
  const revoked = new Set<string>();
  const gw = createGateway({
    config,
    log: silentLog,
    auth: {
      getKey: keys.getKey,
      isTokenAlive: (c: JWTPayload) => typeof c.jti === 'string' && !revoked.has(c.jti),
      smartConfiguration: () => SMART,
    },
    upstream:
      opts.external === true
        ? { url: fhir.url, isBuiltInStore: false, timeoutMs: opts.timeoutMs }
        : {
            socketPath: fhir.socketPath,
            isBuiltInStore: true,
            internalSecret: SECRET,
            timeoutMs: opts.timeoutMs,
          },
    audit: trail,
    defaultMetrics: false,
    ...opts.gateway,
  });
  return {
    gw,
    fhir,
    trail,
    keys,
    revoked,
    dir: t.dir,
    close: async () => {
      await gw.close();
      await fhir.close();
      await trail.close();
      t.cleanup();
    },
  };
}

export function seed(fhir: MiniFhir): void {
  fhir.put({ resourceType: 'Patient', id: '123', name: [{ family: 'Own' }] });
  fhir.put({ resourceType: 'Patient', id: '456', name: [{ family: 'Other' }] });
  fhir.put({
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    code: { text: 'mine' },
    subject: { reference: 'Patient/123' },
  });
  fhir.put({
    resourceType: 'Observation',
    id: 'o2',
    status: 'final',
    code: { text: 'theirs' },
    subject: { reference: 'Patient/456' },
  });
  fhir.put({ resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Doc' }] });
}

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle } from '@medplum/fhirtypes';
import Koa, { type Middleware } from 'koa';
import { createAuth, openAdmin, type Auth, type UserInfo } from '../auth/index.js';
import type { Config } from '../common/config.js';
import type { StartedChild } from '../common/child-process.js';
import type { Logger } from '../common/logger.js';
import { closeServer } from '../common/shutdown.js';
import {
  AuditTrail,
  auditAuthEvents,
  createGateway,
  RoleSet,
  type Gateway,
} from '../gateway/index.js';
import {
  createFhirPatientSearch,
  createInteractionViews,
  createLaunchUi,
} from '../launch-ui/index.js';
import { seedDemoData } from './demo.js';
import { inProcessKeys } from './key-resolver.js';
import { roleCatalogFrom } from './role-catalog.js';
import { startStoreProcess } from './start-store.js';

export interface StartOptions {
  /** Seed the demo (patients, accounts, sample app) before serving; the patient count. */
  demoPatients?: number | undefined;
  /** Benchmark only (`bench/hearth-unaudited.ts`; no configuration sets it): audit records not written. */
  unauditedForBench?: boolean;
}

export interface RunningServer {
  server: http.Server;
  /** Stops accepting, lets in-flight requests finish, closes every database and child process. */
  close(): Promise<void>;
}

function healthEndpoint(
  gateway: Gateway,
  auth: Auth,
  storeSocket: string | undefined,
  log: Logger,
): Middleware {
  const storeAnswers = (): Promise<boolean> =>
    storeSocket === undefined
      ? Promise.resolve(true)
      : new Promise((resolve) => {
          const req = http.get(
            { socketPath: storeSocket, path: '/health', timeout: 2000 },
            (res) => {
              res.resume();
              resolve(res.statusCode === 200);
            },
          );
          req.on('error', () => {
            resolve(false);
          });
          req.on('timeout', () => {
            req.destroy();
            resolve(false);
          });
        });
  const authAnswers = async (): Promise<boolean> => {
    try {
      await auth.ping();
      return true;
    } catch (err) {
      log.error({ err }, 'auth database does not answer');
      return false;
    }
  };
  return async function health(ctx, next) {
    if (ctx.path !== '/health') {
      await next();
      return;
    }
    const [store, gw, authOk] = await Promise.all([
      storeAnswers(),
      gateway.healthCheck(),
      authAnswers(),
    ]);
    const checks = { store, auth: authOk, audit: gw.checks.audit };
    const ok = checks.store && checks.auth && checks.audit;
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: ok ? 'ok' : 'unavailable', checks };
  };
}

function metricsEndpoint(gateway: Gateway): Middleware {
  return async function metrics(ctx, next) {
    if (ctx.path !== '/metrics') {
      await next();
      return;
    }
    await gateway.metricsHandler(ctx, next);
  };
}

/**
 * The composition root's work: starts the store process (unless FHIR_UPSTREAM), the audit trail,
 * the authorization server, the gateway and the launch UI, and serves them on one port.
 */
export async function startHearth(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  opts: StartOptions = {},
): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const internalSecret = randomBytes(32).toString('base64url');
  let store: StartedChild | undefined;
  if (config.fhirUpstream === undefined) {
    store = await startStoreProcess(config, internalSecret, log, env);
  } else {
    log.info({ upstream: config.fhirUpstream }, 'fronting an external FHIR server');
  }
  const storeSocket = store?.ready.address;

  const audit = new AuditTrail({
    dataDir: config.dataDir,
    sync: config.sqliteSync,
    ndjson: config.auditNdjson,
    log,
  });
  const roles = RoleSet.fromFile(config.rolesFile);

  // The patient picker reads through the gateway as the signed-in user (audited, FHIR_UPSTREAM-proof).
  const started: { gateway?: Gateway; server?: http.Server } = {};
  const fetchBundle = async (path: string, user: UserInfo): Promise<Bundle> => {
    const { gateway, server } = started;
    if (gateway === undefined || server === undefined) throw new Error('not started');
    const token = gateway.issueInternalToken({
      sub: user.id,
      clientId: 'hearth-launch-ui',
      fhirUser: user.fhirUser,
      patient: undefined,
      scopes: ['user/Patient.rs'],
      roles: [...user.roles],
    });
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/fhir/${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
    });
    if (!res.ok) throw new Error(`patient search answered ${res.status}`);
    return (await res.json()) as Bundle;
  };
  const searchPatients = createFhirPatientSearch({ fhirBaseUrl: config.fhirBaseUrl, fetchBundle });

  const auth = await createAuth({
    config,
    log,
    views: createInteractionViews(),
    searchPatients,
    roles: roleCatalogFrom(roles),
  });
  auditAuthEvents(auth.events, audit, config.fhirBaseUrl, log);
  const gateway = createGateway({
    config,
    log,
    audit,
    roles,
    unauditedForBench: opts.unauditedForBench === true,
    auth: {
      getKey: inProcessKeys(await auth.jwks(), () => auth.jwks()),
      isTokenAlive: (claims) => auth.isTokenAlive(claims),
      smartConfiguration: () => ({ ...auth.smartConfiguration() }),
    },
    upstream:
      storeSocket === undefined
        ? { url: config.fhirUpstream, isBuiltInStore: false }
        : {
            socketPath: storeSocket,
            url: 'http://localhost/fhir',
            internalSecret,
            isBuiltInStore: true,
          },
  });

  if (opts.demoPatients !== undefined && storeSocket !== undefined) {
    const admin = await openAdmin(config);
    try {
      await seedDemoData(config, { socketPath: storeSocket }, admin, audit, log, opts.demoPatients);
    } finally {
      await admin.close();
    }
  }

  const app = new Koa({ proxy: config.trustProxy });
  app.use(healthEndpoint(gateway, auth, storeSocket, log));
  app.use(metricsEndpoint(gateway));
  app.use(auth.middleware);
  app.use(gateway.middleware);
  app.use(createLaunchUi({ config, log, auth, searchPatients }));

  const handle = app.callback();
  const listening = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    void handle(req, res);
  });
  started.gateway = gateway;
  started.server = listening;
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(config.port, config.host, () => {
      resolve();
    });
  });
  return {
    server: listening,
    async close() {
      await closeServer(listening);
      await gateway.close();
      await auth.close();
      await audit.close();
      await store?.stop();
    },
  };
}

import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Bundle } from '@medplum/fhirtypes';
import Koa, { type Middleware } from 'koa';
import { createAuth, openAdmin, type Auth, type UserInfo } from '../auth/index.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { closeServer } from '../common/shutdown.js';
import { createGateway, RoleSet, type Gateway } from '../gateway/index.js';
import {
  createFhirPatientSearch,
  createInteractionViews,
  createLaunchUi,
} from '../launch-ui/index.js';
import { auditAuth } from './audit-auth-events.js';
import { clusterMetricsClient } from './cluster-metrics.js';
import { auditTrailFor } from './audit-trail.js';
import { inProcessKeys } from './key-resolver.js';
import { roleCatalogOf } from './role-catalog.js';
import {
  startStoreEarly,
  storeSocketPath,
  type StartedStore,
  type StartingStore,
} from './start-store.js';

export interface StartOptions {
  /** Seed the demo (patients, accounts, sample app) before serving; the patient count. */
  demoPatients?: number | undefined;
  /** Benchmark only (`bench/hearth-unaudited.ts`; no configuration sets it): audit records not written. */
  unauditedForBench?: boolean;
  /** Set when this process is one of several cluster workers behind the port (WORKERS > 1). */
  worker?: WorkerRole | undefined;
  /**
   * The store, already starting (main.ts starts its thread before loading the rest of Hearth, so
   * the two start side by side), with the secret it was given.
   */
  store?: StartingStore | undefined;
}

/** What a cluster worker needs beyond the configuration (app/cluster-primary.ts hands it over). */
export interface WorkerRole {
  /** Unique among the processes on DATA_DIR (the worker's pid): names its store socket. */
  name: string;
  /** 0…WORKERS-1, kept when the worker is restarted. */
  slot: number;
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
  worker: boolean,
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
    // Under WORKERS > 1 each worker answers for itself and its own store: say which.
    ctx.body = worker
      ? { status: ok ? 'ok' : 'unavailable', checks, worker: process.pid }
      : { status: ok ? 'ok' : 'unavailable', checks };
  };
}

/** `/metrics`: this process's registry, or (`scrapeAll`, WORKERS > 1) every worker's. */
function metricsEndpoint(gateway: Gateway, scrapeAll?: () => Promise<string>): Middleware {
  return async function metrics(ctx, next) {
    if (ctx.path !== '/metrics') {
      await next();
      return;
    }
    if (scrapeAll === undefined) {
      await gateway.metricsHandler(ctx, next);
      return;
    }
    ctx.type = gateway.metrics.registry.contentType;
    ctx.body = await scrapeAll();
  };
}

/**
 * The composition root's work: starts the store thread (unless FHIR_UPSTREAM), the audit trail,
 * the authorization server, the gateway and the launch UI, and serves them on one port.
 */
export async function startHearth(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  opts: StartOptions = {},
): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // The store starts side by side with the rest; its socket path is known before it is ready.
  const early =
    config.fhirUpstream === undefined
      ? (opts.store ?? startStoreEarly(config, log, env, opts.worker))
      : undefined;
  if (early === undefined)
    log.info({ upstream: config.fhirUpstream }, 'fronting an external FHIR server');
  const internalSecret = early?.internalSecret ?? '';
  const storeSocket =
    early === undefined ? undefined : storeSocketPath(config.dataDir, opts.worker?.name);

  const audit = auditTrailFor(config, log);
  await audit.ready().catch(async (err: unknown) => {
    await audit.close().catch(() => undefined);
    await early?.starting.then((child) => child.stop()).catch(() => undefined);
    throw err;
  });
  const roles = RoleSet.fromFile(config.rolesFile);

  // The patient picker reads through the gateway as the signed-in user (audited, FHIR_UPSTREAM-proof).
  // Its internal token lives in this process only: a cluster worker calls itself on a private
  // loopback listener, since a request to the shared port may reach another worker.
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
    roles: roleCatalogOf(roles),
  });
  // auth emits each account/client change at exactly one of the processes sharing its database
  // (whichever claims it first), so every worker audits the feed.
  auditAuth(auth.events, audit, config.fhirBaseUrl, log, true);
  const store: StartedStore | undefined = await early?.starting;
  if (store !== undefined && store.ready.address !== storeSocket) {
    await store.stop();
    throw new Error(`the store listens on ${store.ready.address}, not ${storeSocket ?? '?'}`);
  }
  // The gateway (bulk jobs resume at once) needs the store ready.
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
    // The demo generator loads only for `--demo`.
    const { seedDemoData } = await import('./demo.js');
    const admin = await openAdmin(config);
    try {
      await seedDemoData(config, { socketPath: storeSocket }, admin, audit, log, opts.demoPatients);
    } finally {
      await admin.close();
    }
  }

  const app = new Koa({ proxy: config.trustProxy });
  app.use(healthEndpoint(gateway, auth, storeSocket, log, opts.worker !== undefined));
  app.use(
    metricsEndpoint(
      gateway,
      opts.worker === undefined ? undefined : clusterMetricsClient(gateway.metrics.registry),
    ),
  );
  app.use(auth.middleware);
  app.use(gateway.middleware);
  app.use(
    createLaunchUi({
      config,
      log,
      auth,
      searchPatients,
    }),
  );

  const handle = app.callback();
  const serve = (): http.Server =>
    http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      void handle(req, res);
    });
  const listening = serve();
  const self = opts.worker === undefined ? undefined : serve();
  started.gateway = gateway;
  started.server = self ?? listening;
  if (self !== undefined) await listen(self, { port: 0, host: '127.0.0.1', exclusive: true });
  await listen(listening, { port: config.port, host: config.host });
  return {
    server: listening,
    async close() {
      await closeServer(listening);
      if (self !== undefined) await closeServer(self);
      await gateway.close();
      await auth.close();
      await audit.close();
      await store?.stop();
    },
  };
}

function listen(server: http.Server, options: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

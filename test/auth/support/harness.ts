import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { loadConfig, type Config } from '../../../common/config.js';
import { createLogger } from '../../../common/logger.js';
import {
  createAuth,
  type Auth,
  type AuthOptions,
  type PatientSummary,
} from '../../../auth/index.js';
import { freshAuthSchema, type TestAuthSchema } from './postgres-auth.js';

export interface Harness {
  readonly base: string;
  readonly fhirBase: string;
  readonly issuer: string;
  readonly config: Config;
  readonly auth: Auth;
  readonly dataDir: string;
  close(): Promise<void>;
}

export const PATIENTS: PatientSummary[] = [
  {
    id: 'pat-1',
    name: 'Ada Lovelace',
    birthDate: '1815-12-10',
    gender: 'female',
    identifier: 'MRN-1',
  },
  {
    id: 'pat-2',
    name: 'Alan Turing',
    birthDate: '1912-06-23',
    gender: 'male',
    identifier: 'MRN-2',
  },
  {
    id: 'pat-3',
    name: 'Grace Hopper',
    birthDate: '1906-12-09',
    gender: 'female',
    identifier: 'MRN-3',
  },
];

/** A tiny in-memory patient search for the picker (the real one calls the gateway). */
export const searchPatients: NonNullable<AuthOptions['searchPatients']> = (q) => {
  const found = PATIENTS.filter(
    (p) =>
      (q.name === undefined || p.name.toLowerCase().includes(q.name.toLowerCase())) &&
      (q.birthdate === undefined || p.birthDate === q.birthdate),
  );
  const size = 2;
  const page = found.slice((q.page - 1) * size, q.page * size);
  return Promise.resolve({
    patients: page,
    next: found.length > q.page * size ? q.page + 1 : undefined,
  });
};

/**
 * Starts auth on a real HTTP server (127.0.0.1, random port) in a fresh DATA_DIR, with a small FHIR
 * stand-in: discovery, metadata, and Patient/Encounter/Practitioner reads that demand a live token.
 * On `postgres` the auth state goes to a fresh schema (STORE_URL=postgres://…?schema=…), dropped on
 * close.
 */
export async function startHarness(
  env: Record<string, string> = {},
  options: Partial<Omit<AuthOptions, 'config' | 'log'>> = {},
  engine: 'sqlite' | 'postgres' = 'sqlite',
): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-auth-'));
  const pg: TestAuthSchema | undefined = engine === 'postgres' ? freshAuthSchema() : undefined;
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => {
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const config = loadConfig(
    {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      SQLITE_SYNC: 'normal',
      ALLOW_LOOPBACK_JWKS: '1',
      ...(pg === undefined ? {} : { STORE_URL: pg.url }),
      ...env,
    },
    dataDir,
  );
  const auth = await createAuth({
    config,
    log: createLogger('silent', 'auth-test'),
    searchPatients,
    ...options,
  });
  const app = new Koa();
  app.use(auth.middleware);
  // A stand-in for the launch UI: sign-in at `/`, who-am-I, and the EHR launcher.
  app.use(async (ctx, next) => {
    if (ctx.path === '/ui/login' && ctx.method === 'POST') {
      const q = new URLSearchParams(ctx.querystring);
      const result = await auth.verifyPassword(
        q.get('username') ?? '',
        q.get('password') ?? '',
        ctx.ip,
      );
      if (!result.ok) {
        ctx.status = 401;
        ctx.body = result;
        return;
      }
      await auth.sessions.signIn(ctx.req, ctx.res, result.user.id);
      ctx.body = { id: result.user.id };
      return;
    }
    if (ctx.path === '/ui/me') {
      ctx.body = { user: await auth.sessions.current(ctx.req, ctx.res) };
      return;
    }
    if (ctx.path === '/ui/logout' && ctx.method === 'POST') {
      await auth.sessions.signOut(ctx.req, ctx.res);
      ctx.status = 204;
      return;
    }
    if (ctx.path === '/ui/launch' && ctx.method === 'POST') {
      const user = await auth.sessions.current(ctx.req, ctx.res);
      if (user === undefined) {
        ctx.status = 401;
        return;
      }
      const q = new URLSearchParams(ctx.querystring);
      ctx.body = await auth.createLaunch({
        userId: user.id,
        clientId: q.get('client') ?? '',
        patient: q.get('patient') ?? undefined,
        encounter: q.get('encounter') ?? undefined,
        fhirContext: q.has('encounter')
          ? [{ reference: `Encounter/${q.get('encounter') ?? ''}` }]
          : undefined,
        needPatientBanner: false,
        smartStyleUrl: `${config.publicUrl}/ui/smart-style.json`,
      });
      return;
    }
    await next();
  });
  app.use(async (ctx, next) => {
    if (ctx.path === '/fhir/.well-known/smart-configuration') {
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.body = auth.smartConfiguration();
      return;
    }
    if (ctx.path === '/fhir/metadata') {
      ctx.body = { resourceType: 'CapabilityStatement', status: 'active', fhirVersion: '4.0.1' };
      return;
    }
    const m = /^\/fhir\/(Patient|Practitioner|Encounter)\/([A-Za-z0-9\-.]+)$/.exec(ctx.path);
    if (m !== null) {
      const token = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1];
      const claims = token === undefined ? undefined : await auth.verifyAccessToken(token);
      if (claims === undefined) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer');
        ctx.body = {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login' }],
        };
        return;
      }
      ctx.body = { resourceType: m[1], id: m[2] };
      return;
    }
    await next();
  });
  const callback = app.callback();
  handler = (req, res) => {
    void callback(req, res);
  };
  return {
    base: config.publicUrl,
    fhirBase: config.fhirBaseUrl,
    issuer: config.issuer,
    config,
    auth,
    dataDir,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await auth.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

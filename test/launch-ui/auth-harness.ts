import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import type { Patient } from '@medplum/fhirtypes';
import { createAuth, type Auth, type SearchPatients } from '../../auth/index.js';
import { loadConfig } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { generatePopulation } from '../../demo/index.js';
import {
  createInteractionViews,
  createLaunchUi,
  SAMPLE_APP,
  sampleAppUrls,
  summarisePatient,
} from '../../launch-ui/index.js';
import { runCli } from '../support/hearth.js';

/**
 * The launch UI with the REAL authorization server (createAuth: oidc-provider, accounts, sessions,
 * launches, consent) and its real interaction routes rendering the launch UI's views; accounts and
 * the sample app are registered through the real `hearth` CLI. Only FHIR is absent: patient search
 * reads generated demo patients in memory, and the sample app's FHIR reads fail (the e2e suite
 * covers those with the whole system).
 */
export interface AuthHarness {
  readonly url: string;
  readonly auth: Auth;
  readonly patients: readonly Patient[];
  readonly clinician: { readonly username: string; readonly password: string };
  readonly patient: { readonly username: string; readonly password: string };
  close(): Promise<void>;
}

export async function startAuthHarness(): Promise<AuthHarness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-ui-auth-'));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const env: Record<string, string> = {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SQLITE_SYNC: 'normal',
  };
  const config = loadConfig(env);
  const patients = generatePopulation({ patients: 12, seed: 'auth-harness' }).records.map(
    (r) => r[0] as Patient,
  );
  const clinician = { username: 'clinician', password: randomBytes(12).toString('base64url') };
  const patient = { username: 'patient', password: randomBytes(12).toString('base64url') };
  const urls = sampleAppUrls(config.publicUrl);
  const results = await Promise.all([
    runCli(
      [
        'user',
        'add',
        '--username',
        clinician.username,
        '--password-stdin',
        '--fhir-user',
        'Practitioner/p1',
        '--role',
        'fhir-smart-user',
        '--role',
        'fhir-data-reader',
      ],
      env,
      clinician.password,
    ),
    runCli(
      [
        'user',
        'add',
        '--username',
        patient.username,
        '--password-stdin',
        '--fhir-user',
        `Patient/${patients[0]?.id ?? ''}`,
        '--role',
        'fhir-smart-user',
      ],
      env,
      patient.password,
    ),
    runCli(
      [
        'client',
        'add',
        '--name',
        SAMPLE_APP.name,
        '--public',
        '--redirect-uri',
        urls.redirectUri,
        '--launch-uri',
        urls.launchUri,
        '--scope',
        SAMPLE_APP.allowedScope,
        '--grant-type',
        'authorization_code',
        '--grant-type',
        'refresh_token',
      ],
      env,
    ),
  ]);
  for (const r of results) if (r.code !== 0) throw new Error(`hearth CLI failed: ${r.stderr}`);

  const summaries = patients.map(summarisePatient);
  const searchPatients: SearchPatients = (q) => {
    const name = (q.name ?? '').toLowerCase();
    const matches = summaries.filter(
      (p) =>
        p.name.toLowerCase().includes(name) &&
        (q.birthdate === undefined || p.birthDate === q.birthdate),
    );
    const slice = matches.slice((q.page - 1) * 10, q.page * 10);
    return Promise.resolve({
      patients: slice,
      next: matches.length > q.page * 10 ? q.page + 1 : undefined,
    });
  };
  const log = createLogger('silent', 'ui-test');
  const auth = await createAuth({ config, log, views: createInteractionViews(), searchPatients });
  const app = new Koa();
  app.use(auth.middleware);
  app.use(async (ctx, next) => {
    if (ctx.path === '/fhir/.well-known/smart-configuration') ctx.body = auth.smartConfiguration();
    else await next();
  });
  app.use(createLaunchUi({ config, log, auth, searchPatients }));
  const handler = app.callback();
  server.on('request', (req, res) => {
    void handler(req, res);
  });
  return {
    url: config.publicUrl,
    auth,
    patients,
    clinician,
    patient,
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      });
      await auth.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import Koa from 'koa';
import { pino } from 'pino';
import type { Patient } from '@medplum/fhirtypes';
import type {
  ClientInfo,
  LaunchHandle,
  LaunchInput,
  PatientSummary,
  SearchPatients,
  SignInResult,
  UserInfo,
} from '../../auth/index.js';
import { generatePopulation } from '../../demo/index.js';
import {
  createInteractionViews,
  createLaunchUi,
  sampleAppUrls,
  type LaunchUiAuth,
} from '../../launch-ui/index.js';
import { setPageHeaders } from '../../launch-ui/middleware/security-headers.js';

/**
 * A small Koa server for page tests before the whole system can start: the real launch UI and the
 * real interaction views, with an in-memory stand-in for auth's account/session/launch API and a
 * patient search over generated demo patients. The e2e suite (test/e2e) drives the real auth.
 */

export const PASSWORD = 'correct horse battery staple';

export interface Harness {
  readonly url: string;
  readonly launches: LaunchInput[];
  readonly consentPosts: URLSearchParams[];
  close(): Promise<void>;
}

function summary(p: Patient): PatientSummary {
  const n = p.name?.[0];
  return {
    id: p.id ?? '',
    name: [...(n?.given ?? []), n?.family ?? ''].join(' '),
    birthDate: p.birthDate,
    gender: p.gender,
    identifier: p.identifier?.[0]?.value,
  };
}

async function readBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startHarness(options: { idleMinutes?: number } = {}): Promise<Harness> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const publicUrl = `http://127.0.0.1:${port}`;
  const sample = sampleAppUrls(publicUrl);

  const user: UserInfo = {
    id: 'user-1',
    username: 'clinician',
    fhirUser: 'Practitioner/p1',
    roles: ['fhir-smart-user'],
    enabled: true,
  };
  const sessions = new Map<string, string>();
  const failures = { count: 0 };
  const launches: LaunchInput[] = [];
  const consentPosts: URLSearchParams[] = [];
  const clients: ClientInfo[] = [
    {
      clientId: 'sample',
      name: 'Hearth sample app',
      redirectUris: [sample.redirectUri],
      launchUri: sample.launchUri,
      scope: 'patient/*.rs',
      grantTypes: ['authorization_code'],
      authMethod: 'none',
      roles: [],
    },
    {
      clientId: 'backend',
      name: 'Nightly export',
      redirectUris: [],
      launchUri: undefined,
      scope: 'system/*.rs',
      grantTypes: ['client_credentials'],
      authMethod: 'private_key_jwt',
      roles: [],
    },
  ];
  const cookieOf = (req: http.IncomingMessage): string | undefined =>
    /(?:^|;\s*)fake_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];

  const macKey = randomBytes(32);
  const auth: LaunchUiAuth = {
    sessions: {
      signIn(_req, res, userId) {
        const sid = randomBytes(16).toString('hex');
        sessions.set(sid, userId);
        res.appendHeader('Set-Cookie', `fake_session=${sid}; Path=/; HttpOnly; SameSite=Lax`);
        return Promise.resolve();
      },
      current(req) {
        const sid = cookieOf(req);
        return Promise.resolve(
          sid !== undefined && sessions.get(sid) === user.id ? user : undefined,
        );
      },
      signOut(req, res) {
        const sid = cookieOf(req);
        if (sid !== undefined) sessions.delete(sid);
        res.appendHeader('Set-Cookie', 'fake_session=; Path=/; Max-Age=0');
        return Promise.resolve();
      },
      macKeys: () => Promise.resolve([macKey]),
    },
    verifyPassword(username, password): Promise<SignInResult> {
      if (failures.count >= 5)
        return Promise.resolve({ ok: false, reason: 'throttled', retryAfter: 600 });
      if (username === user.username && password === PASSWORD)
        return Promise.resolve({ ok: true, user });
      failures.count++;
      return Promise.resolve({ ok: false, reason: 'invalid' });
    },
    createLaunch(input): Promise<LaunchHandle> {
      launches.push(input);
      const launch = `launch-${launches.length}`;
      const client = clients.find((c) => c.clientId === input.clientId);
      const launchUrl =
        client?.launchUri === undefined
          ? undefined
          : `${client.launchUri}?iss=${encodeURIComponent(`${publicUrl}/fhir`)}&launch=${launch}`;
      return Promise.resolve({ launch, expiresAt: Math.floor(Date.now() / 1000) + 300, launchUrl });
    },
    listClients: () => Promise.resolve(clients),
  };

  const patients = generatePopulation({ patients: 25, seed: 'harness' }).records.map((r) =>
    summary(r[0] as Patient),
  );
  const searchPatients: SearchPatients = (q) => {
    const name = (q.name ?? '').toLowerCase();
    const matches = patients.filter(
      (p) =>
        p.name.toLowerCase().includes(name) &&
        (q.birthdate === undefined || p.birthDate === q.birthdate),
    );
    const size = 10;
    const slice = matches.slice((q.page - 1) * size, q.page * size);
    return Promise.resolve({
      patients: slice,
      next: matches.length > q.page * size ? q.page + 1 : undefined,
    });
  };

  const views = createInteractionViews();
  const csrf = { name: 'csrf', value: 'token-123' };
  const client = { clientId: 'sample', name: 'Hearth sample app' };
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/auth/interaction/')) {
      await next();
      return;
    }
    setPageHeaders(ctx);
    ctx.type = 'text/html; charset=utf-8';
    const page = ctx.path.slice('/auth/interaction/'.length);
    const action = '/auth/interaction/submit';
    if (ctx.method === 'POST') {
      const body = await readBody(ctx.req);
      consentPosts.push(body);
      ctx.type = 'application/json';
      ctx.body = {
        decision: body.get('decision'),
        scope: body.getAll('scope'),
        patient: body.get('patient'),
      };
      return;
    }
    if (page === 'login')
      ctx.body = views.login({
        action,
        csrf,
        client,
        error: ctx.query.error === '1' ? 'Wrong username or password.' : undefined,
      });
    else if (page === 'picker') {
      const q = {
        name: typeof ctx.query.name === 'string' ? ctx.query.name : undefined,
        birthdate: undefined,
        page: Number(ctx.query.page ?? 1),
      };
      const r = await searchPatients(q, user);
      ctx.body = views.patientPicker({
        action,
        csrf,
        client,
        searchAction: '/auth/interaction/picker',
        query: q,
        patients: r.patients,
        page: q.page,
        nextPage: r.next,
        kind: 'patient',
      });
    } else if (page === 'consent') {
      const obs = 'patient/Observation.rs';
      const cat = 'http://terminology.hl7.org/CodeSystem/observation-category';
      ctx.body = views.consent({
        action,
        csrf,
        client,
        user: { username: 'patient', fhirUser: 'Patient/123' },
        patient: 'Zoë Müller',
        offline: true,
        scopes: [
          { value: 'openid', label: 'Know who you are', checked: true },
          { value: 'fhirUser', label: 'Know your FHIR user record', checked: true },
          { value: 'launch/patient', label: 'Know which patient is selected', checked: true },
          { value: 'offline_access', label: 'Keep access', checked: true },
          { value: 'patient/Patient.rs', label: 'Read Patient records', checked: true },
          { value: obs, label: 'Read Observation records', checked: true },
          {
            value: `${obs}?category=${cat}|laboratory`,
            label: 'Observation: laboratory results only',
            checked: false,
            narrows: obs,
          },
          {
            value: `${obs}?category=${cat}|vital-signs`,
            label: 'Observation: vital signs only',
            checked: false,
            narrows: obs,
          },
          { value: 'patient/Condition.rs', label: 'Read Condition records', checked: true },
        ],
      });
    } else if (page === 'error') {
      ctx.status = 400;
      ctx.body = views.error({
        title: 'This sign-in has expired',
        message: 'The sign-in took too long. Go back to the app and start again.',
      });
    } else ctx.status = 404;
  });
  app.use(
    createLaunchUi({
      config: { publicUrl, fhirBaseUrl: `${publicUrl}/fhir`, trustProxy: false },
      log: pino({ level: 'silent' }),
      auth,
      searchPatients,
      ...(options.idleMinutes === undefined ? {} : { idleMinutes: options.idleMinutes }),
    }),
  );
  const handler = app.callback();
  server.on('request', (req, res) => {
    void handler(req, res);
  });
  return {
    url: publicUrl,
    launches,
    consentPosts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}

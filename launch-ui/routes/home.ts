import type { Context } from 'koa';
import type { ClientInfo, UserInfo } from '../../auth/index.js';
import { csrfToken, csrfValid, CSRF_FIELD } from '../middleware/csrf.js';
import { FormError, readForm } from '../middleware/form-body.js';
import type { IdleClock } from '../middleware/idle-timeout.js';
import { setPageHeaders } from '../middleware/security-headers.js';
import type { LaunchUiOptions } from '../types.js';
import { homePage, messagePage, signInPage } from '../views/home.js';

/** The clinician home at `/`: sign-in, patient search, EHR launch, sign-out. */
export interface HomeRoutes {
  readonly showHome: (ctx: Context) => Promise<void>;
  readonly signIn: (ctx: Context) => Promise<void>;
  readonly signOut: (ctx: Context) => Promise<void>;
  readonly launch: (ctx: Context) => Promise<void>;
}

const PATIENT_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

const INFO: Readonly<Record<string, string>> = {
  'signed-out': 'You have signed out.',
  idle: 'You were signed out because the page was left idle.',
};

export function createHomeRoutes(
  o: LaunchUiOptions,
  idle: IdleClock,
  idleSeconds: number,
): HomeRoutes {
  const secure = o.config.trustProxy || o.config.publicUrl.startsWith('https:');

  async function launchableApps(): Promise<ClientInfo[]> {
    return (await o.auth.listClients()).filter((c) => c.launchUri !== undefined);
  }

  function originsOf(apps: readonly ClientInfo[]): string[] {
    const origins = new Set<string>();
    for (const a of apps)
      if (a.launchUri !== undefined && URL.canParse(a.launchUri))
        origins.add(new URL(a.launchUri).origin);
    return [...origins];
  }

  function respond(
    ctx: Context,
    status: number,
    body: string,
    formTargets: readonly string[] = [],
  ): void {
    setPageHeaders(ctx, { formTargets });
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  }

  /** The signed-in user, after enforcing the idle timeout (which signs an idle session out). */
  async function currentUser(ctx: Context): Promise<UserInfo | 'idle' | undefined> {
    const user = await o.auth.sessions.current(ctx.req, ctx.res);
    if (user === undefined) return undefined;
    if ((await idle.check(ctx)) === 'idle') {
      await o.auth.sessions.signOut(ctx.req, ctx.res);
      idle.clear(ctx);
      return 'idle';
    }
    await idle.touch(ctx);
    return user;
  }

  async function form(ctx: Context): Promise<URLSearchParams | undefined> {
    try {
      const body = await readForm(ctx);
      if (csrfValid(ctx, body.get(CSRF_FIELD))) return body;
      respond(
        ctx,
        403,
        messagePage(
          'This form has expired',
          'For your security the form could not be accepted. Please try again.',
          true,
        ),
      );
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      respond(
        ctx,
        err.status,
        messagePage('Something went wrong', 'The form could not be read. Please try again.'),
      );
    }
    return undefined;
  }

  async function showHome(ctx: Context): Promise<void> {
    const csrf = csrfToken(ctx, { secure });
    const user = await currentUser(ctx);
    if (user === undefined || user === 'idle') {
      const reason =
        user === 'idle' ? 'idle' : typeof ctx.query.info === 'string' ? ctx.query.info : '';
      respond(ctx, 200, signInPage({ csrf, info: INFO[reason] }));
      return;
    }
    const name = typeof ctx.query.name === 'string' ? ctx.query.name.trim().slice(0, 100) : '';
    const rawDate = typeof ctx.query.birthdate === 'string' ? ctx.query.birthdate.trim() : '';
    const birthdate = DATE.test(rawDate) ? rawDate : '';
    const pageNo = Math.min(
      Math.max(Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1, 1),
      10_000,
    );
    const apps = await launchableApps();
    let patients: Awaited<ReturnType<LaunchUiOptions['searchPatients']>> = { patients: [] };
    let error: string | undefined =
      rawDate !== '' && birthdate === '' ? 'Enter the birth date as YYYY-MM-DD.' : undefined;
    try {
      patients = await o.searchPatients(
        { name: name || undefined, birthdate: birthdate || undefined, page: pageNo },
        user,
      );
    } catch (err) {
      o.log.error({ err }, 'launch-ui: patient search failed');
      error = 'Patient search is not available right now. Please try again in a moment.';
    }
    respond(
      ctx,
      200,
      homePage({
        csrf,
        user,
        query: { name, birthdate, page: pageNo },
        patients: patients.patients,
        nextPage: patients.next,
        apps,
        error,
        idleSeconds,
      }),
      originsOf(apps),
    );
  }

  async function signIn(ctx: Context): Promise<void> {
    const body = await form(ctx);
    if (body === undefined) return;
    const csrf = csrfToken(ctx, { secure });
    const username = (body.get('username') ?? '').trim();
    const password = body.get('password') ?? '';
    if (username === '' || password === '') {
      respond(ctx, 400, signInPage({ csrf, username, error: 'Enter your username and password.' }));
      return;
    }
    const result = await o.auth.verifyPassword(username, password, ctx.ip);
    if (!result.ok) {
      if (result.reason === 'throttled') {
        const minutes = Math.max(1, Math.ceil((result.retryAfter ?? 60) / 60));
        respond(
          ctx,
          429,
          signInPage({
            csrf,
            username,
            error: `This account is locked after too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          }),
        );
      } else {
        respond(ctx, 401, signInPage({ csrf, username, error: 'Wrong username or password.' }));
      }
      return;
    }
    await o.auth.sessions.signIn(ctx.req, ctx.res, result.user.id);
    await idle.touch(ctx);
    ctx.status = 303;
    ctx.redirect('/');
  }

  async function signOut(ctx: Context): Promise<void> {
    const body = await form(ctx);
    if (body === undefined) return;
    await o.auth.sessions.signOut(ctx.req, ctx.res);
    idle.clear(ctx);
    ctx.status = 303;
    ctx.redirect('/?info=signed-out');
  }

  async function launch(ctx: Context): Promise<void> {
    const body = await form(ctx);
    if (body === undefined) return;
    const user = await currentUser(ctx);
    if (user === undefined || user === 'idle') {
      ctx.status = 303;
      ctx.redirect(user === 'idle' ? '/' : '/');
      return;
    }
    const clientId = body.get('client_id') ?? '';
    const patient = body.get('patient') ?? '';
    const app = (await launchableApps()).find((a) => a.clientId === clientId);
    if (app?.launchUri === undefined || !PATIENT_ID.test(patient)) {
      respond(
        ctx,
        400,
        messagePage(
          'Cannot open the app',
          'Choose a registered app and a patient, then press Launch.',
        ),
      );
      return;
    }
    const handle = await o.auth.createLaunch({
      userId: user.id,
      clientId,
      patient,
      needPatientBanner: true,
    });
    const target = new URL(handle.launchUrl ?? app.launchUri);
    if (handle.launchUrl === undefined) {
      target.searchParams.set('iss', o.config.fhirBaseUrl);
      target.searchParams.set('launch', handle.launch);
    }
    o.log.info({ clientId, userId: user.id }, 'launch-ui: EHR launch');
    ctx.status = 303;
    ctx.redirect(target.href);
  }

  return { showHome, signIn, signOut, launch };
}

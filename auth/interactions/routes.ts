import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { nowSeconds } from '../db/auth-sql.js';
import { FormError, readForm } from '../http/read-form.js';
import { knownPatient, type SmartResults } from '../provider/interaction-policy.js';
import { TTL } from '../provider/ttl.js';
import { INTERACTION_PATH } from '../provider/create-provider.js';
import type { LaunchContext } from '../launch/launches.js';
import type { UserInfo } from '../types.js';
import { consentOptions, decideGrant } from './consent.js';
import { describePatient } from './describe-patient.js';
import { CSRF_FIELD, csrfField, csrfValid } from './csrf.js';
import type { InteractionDeps } from './interaction-deps.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Thrown inside a handler to show the error page with this status. */
class PageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The interaction endpoints under `{issuer}/interaction/:uid`: GET shows the page of the pending
 * prompt (login, patient or encounter picker, consent); POSTs take the form and resume the
 * authorization request. Every form carries a CSRF token bound to the interaction.
 */
export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({
    prefix: `${new URL(deps.config.issuer).pathname}${INTERACTION_PATH}`,
  });
  const issuerPath = new URL(deps.config.issuer).pathname;
  const action = (uid: string, step: string) => `${issuerPath}${INTERACTION_PATH}/${uid}/${step}`;

  const load = async (
    ctx: Context,
    expected: string | undefined,
  ): Promise<{ provider: Provider; details: Details }> => {
    const { provider } = await deps.current();
    let details: Details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new PageError(
        400,
        'This sign-in request has expired or was opened in another browser. Return to the app and start again.',
      );
    }
    if (details.uid !== (ctx.params as Record<string, string | undefined>)['uid'])
      throw new PageError(400, 'This sign-in request does not match your browser session.');
    if (expected !== undefined && details.prompt.name !== expected) {
      throw new PageError(409, 'This step is already done. Return to the app and start again.');
    }
    return { provider, details };
  };

  const client = async (details: Details) => {
    const id = text(details.params['client_id']);
    const record = await deps.clients.get(id);
    if (record === undefined) throw new PageError(400, 'The app is no longer registered.');
    return record;
  };

  const sessionUser = async (details: Details): Promise<UserInfo> => {
    const id = details.session?.accountId;
    const user = id === undefined ? undefined : await deps.users.findById(id);
    if (user === undefined || !user.enabled)
      throw new PageError(401, 'Your account is not available. Sign in again.');
    return user;
  };

  const form = async (ctx: Context, uid: string): Promise<URLSearchParams> => {
    const body = await readForm(ctx.req);
    if (!csrfValid((await deps.current()).keys.cookieKeys, uid, body.get(CSRF_FIELD))) {
      throw new PageError(
        403,
        'The form expired or did not come from this site. Go back and try again.',
      );
    }
    return body;
  };

  const finish = async (
    ctx: Context,
    provider: Provider,
    result: InteractionResults,
    merge: boolean,
  ) => {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: merge,
    });
    ctx.redirect(to);
    ctx.status = 303;
  };

  const renderPage = async (ctx: Context, details: Details, error?: string, username?: string) => {
    const uid = details.uid;
    const csrf = csrfField((await deps.current()).keys.cookieKeys, uid);
    const app = await client(details);
    const label = { clientId: app.clientId, name: app.name };
    ctx.type = 'html';
    switch (details.prompt.name) {
      case 'login':
        ctx.body = deps.views.login({
          action: action(uid, 'login'),
          csrf,
          client: label,
          username,
          error,
        });
        return;
      case 'patient_select':
      case 'encounter_select': {
        const user = await sessionUser(details);
        const kind = details.prompt.name === 'patient_select' ? 'patient' : 'encounter';
        const name =
          typeof ctx.query['name'] === 'string' && ctx.query['name'] !== ''
            ? ctx.query['name']
            : undefined;
        const birthdate =
          typeof ctx.query['birthdate'] === 'string' && ctx.query['birthdate'] !== ''
            ? ctx.query['birthdate']
            : undefined;
        const pageNo = Math.max(1, Math.min(10_000, Number(ctx.query['page']) || 1));
        let rows: {
          id: string;
          name: string;
          birthDate?: string | undefined;
          gender?: string | undefined;
          identifier?: string | undefined;
        }[] = [];
        let next: number | undefined;
        let searchError = error;
        try {
          if (kind === 'patient') {
            if (deps.searchPatients === undefined)
              throw new Error('patient search is not configured');
            const found = await deps.searchPatients({ name, birthdate, page: pageNo }, user);
            rows = [...found.patients];
            next = found.next;
          } else {
            const patient = knownPatient(user, details.lastSubmission);
            if (deps.searchEncounters === undefined || patient === undefined)
              throw new Error('encounter search is not available');
            const found = await deps.searchEncounters({ patient, page: pageNo }, user);
            rows = found.encounters.map((x) => ({ id: x.id, name: x.label }));
            next = found.next;
          }
        } catch (err) {
          deps.log.warn({ err }, `${kind} search failed`);
          searchError = `The ${kind} list could not be loaded. Try again.`;
        }
        ctx.body = deps.views.patientPicker({
          action: action(uid, kind),
          csrf,
          client: label,
          searchAction: `${issuerPath}${INTERACTION_PATH}/${uid}`,
          query: { name, birthdate },
          patients: rows,
          page: pageNo,
          nextPage: next,
          error: searchError,
          kind,
        });
        return;
      }
      case 'consent': {
        const user = await sessionUser(details);
        const requested = text(details.params['scope']);
        const launchId = details.params['launch'];
        const launch =
          typeof launchId === 'string' ? await deps.launches.peek(launchId) : undefined;
        const patient = launch?.context.patient ?? knownPatient(user, details.lastSubmission);
        const patientSummary = await describePatient(deps, patient, user);
        ctx.body = deps.views.consent({
          action: action(uid, 'consent'),
          csrf,
          client: label,
          user: { username: user.username, fhirUser: user.fhirUser },
          patient,
          patientSummary,
          scopes: consentOptions(requested, app, user, deps.roles),
          offline: requested.split(' ').includes('offline_access'),
        });
        return;
      }
      default:
        throw new PageError(400, `unsupported step ${details.prompt.name}`);
    }
  };

  router.use(async function interactionErrors(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    );
    ctx.set('Referrer-Policy', 'no-referrer');
    try {
      await next();
    } catch (err) {
      const status = err instanceof PageError || err instanceof FormError ? err.status : 500;
      if (status === 500) deps.log.error({ err }, 'interaction failed');
      const message =
        err instanceof PageError || err instanceof FormError
          ? err.message
          : 'Something went wrong. Try again.';
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = deps.views.error({ title: 'Sign-in could not continue', message });
    }
  });

  router.get('/:uid', async (ctx) => {
    const { details } = await load(ctx, undefined);
    await renderPage(ctx, details);
  });

  router.post('/:uid/login', async (ctx) => {
    const { provider, details } = await load(ctx, 'login');
    const body = await form(ctx, details.uid);
    const username = body.get('username') ?? '';
    const result = await deps.signIn(username, body.get('password') ?? '', ctx.ip);
    if (!result.ok) {
      ctx.status = result.reason === 'throttled' ? 429 : 401;
      if (result.retryAfter !== undefined) ctx.set('Retry-After', String(result.retryAfter));
      await renderPage(
        ctx,
        details,
        result.reason === 'throttled'
          ? `Too many failed sign-ins. Try again in ${result.retryAfter ?? 60} seconds.`
          : 'Wrong username or password.',
        username,
      );
      return;
    }
    await finish(ctx, provider, { login: { accountId: result.user.id, amr: ['pwd'] } }, false);
  });

  router.post('/:uid/patient', async (ctx) => {
    const { provider, details } = await load(ctx, 'patient_select');
    const body = await form(ctx, details.uid);
    const patient = body.get('patient') ?? '';
    if (!RESOURCE_ID.test(patient)) throw new PageError(400, 'Choose a patient from the list.');
    await finish(ctx, provider, { patient_select: { patient } }, true);
  });

  router.post('/:uid/encounter', async (ctx) => {
    const { provider, details } = await load(ctx, 'encounter_select');
    const body = await form(ctx, details.uid);
    const encounter = body.get('encounter') ?? '';
    if (encounter !== '' && !RESOURCE_ID.test(encounter))
      throw new PageError(400, 'Choose an encounter from the list.');
    await finish(ctx, provider, { encounter_select: encounter === '' ? {} : { encounter } }, true);
  });

  router.post('/:uid/consent', async (ctx) => {
    const { provider, details } = await load(ctx, 'consent');
    const body = await form(ctx, details.uid);
    const user = await sessionUser(details);
    const app = await client(details);
    if (body.get('decision') !== 'allow') {
      deps.events.emit('consent.denied', { userId: user.id, clientId: app.clientId });
      await finish(
        ctx,
        provider,
        { error: 'access_denied', error_description: 'the user denied the request' },
        true,
      );
      return;
    }
    const requested = text(details.params['scope']);
    const granted = decideGrant(requested, body.getAll('scope'), app, user, deps.roles);
    const last = details.lastSubmission as SmartResults | undefined;
    let context: LaunchContext;
    const launchId = details.params['launch'];
    if (typeof launchId === 'string' && launchId !== '') {
      const launch = await deps.launches.take(launchId);
      if (launch === undefined || launch.clientId !== app.clientId) {
        await finish(
          ctx,
          provider,
          { error: 'invalid_request', error_description: 'the launch expired or was already used' },
          true,
        );
        return;
      }
      if (launch.userId !== user.id) {
        await finish(
          ctx,
          provider,
          { error: 'access_denied', error_description: 'the launch belongs to another user' },
          true,
        );
        return;
      }
      context = { ...launch.context, patient: launch.context.patient ?? knownPatient(user, last) };
    } else {
      const patient = knownPatient(user, last);
      context = { patient, encounter: last?.encounter_select?.encounter };
    }
    const needsPatient = granted.clinical.some((c) => c.context === 'patient');
    if (granted.scope === '' || (needsPatient && context.patient === undefined)) {
      deps.events.emit('consent.denied', { userId: user.id, clientId: app.clientId });
      await finish(
        ctx,
        provider,
        {
          error: 'access_denied',
          error_description:
            granted.scope === '' ? 'no scope was granted' : 'no patient was selected',
        },
        true,
      );
      return;
    }
    const grant = new provider.Grant({ accountId: user.id, clientId: app.clientId });
    if (granted.static.length > 0) grant.addOIDCScope(granted.static.join(' '));
    const clinical = granted.scope
      .split(' ')
      .filter((s) => s.includes('/') && !s.startsWith('launch/'));
    if (clinical.length > 0) grant.addResourceScope(deps.config.fhirBaseUrl, clinical.join(' '));
    const grantId = await grant.save();
    await deps.grantContexts.put(grantId, context, TTL.Grant);
    // The authorization request continues with exactly the granted scopes (the code carries them).
    details.params['scope'] = granted.scope;
    await details.save(Math.max(1, details.exp - nowSeconds()));
    deps.events.emit('consent.given', {
      userId: user.id,
      clientId: app.clientId,
      scope: granted.scope,
      patient: context.patient,
    });
    await finish(ctx, provider, { consent: { grantId } }, true);
  });

  return router;
}

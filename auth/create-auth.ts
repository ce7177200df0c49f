import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { Context, Next } from 'koa';
import { LoginThrottle } from './accounts/throttle.js';
import { signIn } from './accounts/sign-in.js';
import { Users } from './accounts/users.js';
import { Clients } from './clients/clients.js';
import { AdminChanges, type AccountChange, type ClientChange } from './db/admin-changes.js';
import { openAuthSql } from './db/open-auth-sql.js';
import { smartConfiguration } from './discovery.js';
import { AuthEvents } from './events.js';
import { createAuthApp } from './http/auth-app.js';
import { defaultViews } from './interactions/default-views.js';
import { interactionRouter } from './interactions/routes.js';
import { KeyStore } from './keys/key-store.js';
import { GrantContexts } from './launch/grant-context.js';
import { Launches } from './launch/launches.js';
import { TokenLiveness } from './liveness.js';
import { createProvider } from './provider/create-provider.js';
import type { ProviderDeps } from './provider/deps.js';
import { verifyAccessTokenJwt } from './provider/jwt-access-tokens.js';
import { ProviderHolder } from './provider/provider-holder.js';
import { loadRoleCatalog } from './roles/index.js';
import { createSessions } from './sessions.js';
import { SqlOidcStorage } from './storage/sql-oidc-storage.js';
import { purgeExpired } from './purge.js';
import type { Auth, AuthOptions, LaunchHandle, LaunchInput } from './types.js';

const PURGE_EVERY_MS = 10 * 60 * 1000;
/** How often account and client changes (possibly made by the CLI) are turned into events. */
const CHANGES_EVERY_MS = 1000;

/**
 * Opens the auth database (DATA_DIR/auth.db, or the shared `<schema>_auth` schema when STORE_URL is
 * postgres://…), creates the keys on first start, and builds the server.
 */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const { config, log } = options;
  const db = await openAuthSql(config, {
    onIdleError: (err) => {
      log.error({ err }, 'auth database connection failed');
    },
  });
  try {
    const roles = options.roles ?? loadRoleCatalog(config.rolesFile);
    const events = new AuthEvents();
    const users = new Users(db, () => roles.names);
    const clients = new Clients(db, () => roles.names);
    const keyStore = new KeyStore(db);
    await keyStore.ensure();
    const storage = new SqlOidcStorage(db);
    const launches = new Launches(db);
    const grantContexts = new GrantContexts(db);
    const liveness = new TokenLiveness(db);
    const throttle = new LoginThrottle(db);
    const views = options.views ?? defaultViews;
    const base: Omit<ProviderDeps, 'keys'> = {
      config,
      log,
      storage,
      users,
      clients,
      launches,
      grantContexts,
      liveness,
      roles,
      events,
      views,
      encounterPicker: options.searchEncounters !== undefined,
    };
    const holder = new ProviderHolder(keyStore, (keys) => createProvider({ ...base, keys }));
    const providerDeps = async (): Promise<ProviderDeps> => ({
      ...base,
      keys: (await holder.current()).keys,
    });
    const checkPassword = (username: string, password: string, address: string) =>
      signIn({ users, throttle, events }, username, password, address);
    const router = interactionRouter({
      config,
      log,
      current: () => holder.current(),
      users,
      clients,
      launches,
      grantContexts,
      roles,
      events,
      views,
      signIn: checkPassword,
      searchPatients: options.searchPatients,
      searchEncounters: options.searchEncounters,
    });
    const app = createAuthApp({ config, holder, router, providerDeps, clients });
    const handle = app.callback();
    const issuerPath = new URL(config.issuer).pathname;
    await holder.current();

    // Periodic work; `close()` waits for a run in progress before closing the database.
    const running = new Map<string, Promise<void>>();
    const every = (name: string, ms: number, task: () => Promise<void>) => {
      const t = setInterval(() => {
        if (running.has(name)) return;
        const run = task()
          .catch((err: unknown) => {
            log.error({ err }, `auth ${name} failed`);
          })
          .finally(() => running.delete(name));
        running.set(name, run);
      }, ms);
      t.unref();
      return t;
    };
    const timer = every('purge', PURGE_EVERY_MS, () => purgeExpired(db, storage, liveness));

    const changes = new AdminChanges(db);
    // Changes made before this start are not emitted (whoever ran then did, or nobody will).
    const floor = await changes.lastId();
    const changeTimer = every('change-log reading', CHANGES_EVERY_MS, async () => {
      for (const c of await changes.claim(floor)) {
        if (c.kind === 'account') {
          events.emit('account.changed', {
            username: c.subject,
            change: c.change as AccountChange,
          });
        } else {
          events.emit('client.changed', { clientId: c.subject, change: c.change as ClientChange });
        }
      }
    });

    const secure = config.trustProxy || config.publicUrl.startsWith('https:');
    return {
      issuer: config.issuer,
      audience: config.fhirBaseUrl,
      middleware: async function auth(ctx: Context, next: Next): Promise<void> {
        if (ctx.path !== issuerPath && !ctx.path.startsWith(`${issuerPath}/`)) {
          await next();
          return;
        }
        ctx.respond = false;
        await handle(ctx.req, ctx.res);
      },
      smartConfiguration: () => smartConfiguration(config.issuer),
      jwks: async () => (await holder.current(true)).keys.jwks,
      async verifyAccessToken(token: string) {
        const verify = async (fresh: boolean) =>
          verifyAccessTokenJwt({ config, jwks: (await holder.current(fresh)).keys.jwks }, token);
        // A token signed by a key another process just put in use: re-read the keys once.
        const claims =
          (await verify(false)) ??
          (namesUnknownKey(token, holder.last().keys.jwks) ? await verify(true) : undefined);
        return claims !== undefined && (await liveness.isAlive(claims)) ? claims : undefined;
      },
      isTokenAlive: (claims) => liveness.isAlive(claims),
      async createLaunch(input: LaunchInput): Promise<LaunchHandle> {
        const user = await users.findById(input.userId);
        if (user === undefined || !user.enabled) throw new Error('unknown or disabled user');
        const client = await clients.get(input.clientId);
        if (client === undefined) throw new Error('unknown client');
        const { launch, expiresAt } = await launches.create(input);
        events.emit('launch.created', {
          userId: input.userId,
          clientId: input.clientId,
          patient: input.patient,
        });
        let launchUrl: string | undefined;
        if (client.launchUri !== undefined) {
          const url = new URL(client.launchUri);
          url.searchParams.set('iss', config.fhirBaseUrl);
          url.searchParams.set('launch', launch);
          launchUrl = url.href;
        }
        return { launch, expiresAt, launchUrl };
      },
      verifyPassword: checkPassword,
      findUser: async (idOrUsername) =>
        (await users.findById(idOrUsername)) ?? (await users.findByUsername(idOrUsername)),
      listClients: async () => (await clients.list()).map(({ metadata: _m, ...info }) => info),
      ping: () => db.ping(),
      storage: db.location,
      sessions: createSessions(holder, users, secure, events),
      events,
      async close() {
        clearInterval(timer);
        clearInterval(changeTimer);
        await Promise.all(running.values());
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Whether a JWT's header names a key id that is not in `jwks`. */
function namesUnknownKey(token: string, jwks: JSONWebKeySet): boolean {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' && !jwks.keys.some((k) => k.kid === kid);
  } catch {
    return false;
  }
}

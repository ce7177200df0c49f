import type { Context, Next } from 'koa';
import { LoginThrottle } from './accounts/throttle.js';
import { signIn } from './accounts/sign-in.js';
import { Users } from './accounts/users.js';
import { Clients } from './clients/clients.js';
import { openAuthDb } from './db/open-auth-db.js';
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
import { loadRoleCatalog } from './roles.js';
import { createSessions } from './sessions.js';
import { SqliteOidcStorage } from './storage/sqlite-oidc-storage.js';
import { purgeExpired } from './purge.js';
import type { Auth, AuthOptions, LaunchHandle, LaunchInput } from './types.js';

const PURGE_EVERY_MS = 10 * 60 * 1000;

/** Opens the auth database and keys in DATA_DIR (creating them on first start) and builds the server. */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const { config, log } = options;
  const db = openAuthDb(config.dataDir, config.sqliteSync);
  try {
    const roles = options.roles ?? loadRoleCatalog(config.rolesFile);
    const events = new AuthEvents();
    const users = new Users(db, () => roles.names);
    const clients = new Clients(db, () => roles.names);
    const keyStore = new KeyStore(db);
    await keyStore.ensure();
    const storage = new SqliteOidcStorage(db);
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
    const providerDeps = (): ProviderDeps => ({ ...base, keys: holder.current().keys });
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
    holder.current();

    const timer = setInterval(() => {
      purgeExpired(db, storage, liveness).catch((err: unknown) => {
        log.error({ err }, 'auth purge failed');
      });
    }, PURGE_EVERY_MS);
    timer.unref();

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
      jwks: () => holder.current().keys.jwks,
      async verifyAccessToken(token: string) {
        const claims = await verifyAccessTokenJwt(
          { config, jwks: holder.current().keys.jwks },
          token,
        );
        return claims !== undefined && liveness.isAlive(claims) ? claims : undefined;
      },
      isTokenAlive: (claims) => liveness.isAlive(claims),
      createLaunch(input: LaunchInput): Promise<LaunchHandle> {
        const user = users.findById(input.userId);
        if (user === undefined || !user.enabled)
          return Promise.reject(new Error('unknown or disabled user'));
        const client = clients.get(input.clientId);
        if (client === undefined) return Promise.reject(new Error('unknown client'));
        const { launch, expiresAt } = launches.create(input);
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
        return Promise.resolve({ launch, expiresAt, launchUrl });
      },
      verifyPassword: checkPassword,
      findUser: (idOrUsername) =>
        users.findById(idOrUsername) ?? users.findByUsername(idOrUsername),
      listClients: () => clients.list().map(({ metadata: _m, ...info }) => info),
      sessions: createSessions(holder, users, secure, events),
      events,
      close() {
        clearInterval(timer);
        db.close();
        return Promise.resolve();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

import { hkdfSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Users } from './accounts/users.js';
import type { ProviderHolder } from './provider/provider-holder.js';
import { cookieOptions } from './provider/create-provider.js';
import { TTL } from './provider/ttl.js';
import type { AuthEvents } from './events.js';
import type { AuthSessions, UserInfo } from './types.js';

/**
 * The authorization server's own browser session (oidc-provider's Session model and `_session`
 * cookie), opened and read by the launch UI: signing in at `/` signs in at `/auth` too.
 */
export function createSessions(
  holder: ProviderHolder,
  users: Users,
  secure: boolean,
  _events: AuthEvents,
): AuthSessions {
  const context = async (req: IncomingMessage, res: ServerResponse) => {
    const { provider } = await holder.current();
    return { provider, ctx: provider.createContext(req, res) };
  };
  const long = cookieOptions(secure);
  return {
    async signIn(req, res, userId) {
      const user = await users.findById(userId);
      if (user === undefined || !user.enabled) throw new Error('no such active user');
      const { provider, ctx } = await context(req, res);
      const session = await provider.Session.get(ctx);
      if (session.accountId !== userId) session.authorizations = {};
      // A fresh identifier on every sign-in (no session fixation).
      if (!(session as { new?: boolean }).new) session.resetIdentifier();
      session.loginAccount({ accountId: userId, amr: ['pwd'] });
      await session.save(TTL.Session);
      ctx.cookies.set(provider.cookieName('session'), session.jti, {
        ...long,
        expires: new Date(session.exp * 1000),
      });
    },
    async current(req, res): Promise<UserInfo | undefined> {
      const { provider, ctx } = await context(req, res);
      const session = await provider.Session.get(ctx);
      const id = session.accountId;
      const user = id === undefined ? undefined : await users.findById(id);
      return user?.enabled === true ? user : undefined;
    },
    async macKeys(purpose) {
      const { keys } = await holder.current();
      return keys.cookieKeys.map((k) =>
        Buffer.from(hkdfSync('sha256', k, '', `hearth:${purpose}`, 32)),
      );
    },
    async signOut(req, res) {
      const { provider, ctx } = await context(req, res);
      const session = await provider.Session.get(ctx);
      if (!(session as { new?: boolean }).new) await session.destroy();
      ctx.cookies.set(provider.cookieName('session'), null, long);
    },
  };
}

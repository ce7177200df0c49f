import type { AuthEvents } from '../events.js';
import type { SignInResult } from '../types.js';
import { DUMMY_HASH_PROMISE, verifyPassword } from './password.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, type LoginThrottle } from './throttle.js';
import type { Users } from './users.js';

/**
 * Username/password check with throttling per account and per address. A wrong password, an unknown
 * user and a disabled account answer the same way and take the same time.
 */
export async function signIn(
  deps: { users: Users; throttle: LoginThrottle; events: AuthEvents },
  username: string,
  password: string,
  address: string,
): Promise<SignInResult> {
  const accountKey = `user:${username.toLowerCase()}`;
  const addressKey = `addr:${address}`;
  const wait = Math.max(
    await deps.throttle.retryAfter(accountKey),
    await deps.throttle.retryAfter(addressKey),
  );
  if (wait > 0) {
    deps.events.emit('signin.failure', { username, address, reason: 'throttled' });
    return { ok: false, reason: 'throttled', retryAfter: wait };
  }
  const record = await deps.users.passwordHash(username);
  const matches = await verifyPassword(password, record?.hash ?? (await DUMMY_HASH_PROMISE()));
  if (record === undefined || !matches || !record.user.enabled) {
    await deps.throttle.fail(accountKey, ACCOUNT_POLICY);
    await deps.throttle.fail(addressKey, ADDRESS_POLICY);
    deps.events.emit('signin.failure', { username, address, reason: 'invalid' });
    return { ok: false, reason: 'invalid' };
  }
  await deps.throttle.succeed(accountKey);
  deps.events.emit('signin.success', { userId: record.user.id, username, address });
  return { ok: true, user: record.user };
}

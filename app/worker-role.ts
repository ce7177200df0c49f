import type { WorkerRole } from './start-hearth.js';

/** How the primary hands the shared launch-UI cookie key to its workers (never set by operators). */
const COOKIE_KEY_ENV = 'HEARTH_WORKER_COOKIE_KEY';

/** The environment the primary adds to every worker it forks. */
export function workerEnv(cookieKey: Buffer): Record<string, string> {
  return { [COOKIE_KEY_ENV]: cookieKey.toString('base64url') };
}

/**
 * A worker's role, from the environment its primary gave it, and that environment without the key
 * (what the worker passes on to its store process).
 */
export function workerRoleFrom(
  env: NodeJS.ProcessEnv,
  pid: number,
): { role: WorkerRole; env: NodeJS.ProcessEnv } {
  const { [COOKIE_KEY_ENV]: encoded, ...rest } = env;
  const cookieKey = Buffer.from(encoded ?? '', 'base64url');
  if (cookieKey.length < 32)
    throw new Error(`${COOKIE_KEY_ENV} is missing: workers are started by the primary`);
  return { role: { name: String(pid), cookieKey }, env: rest };
}

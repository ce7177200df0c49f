import type { WorkerRole } from './start-hearth.js';

/** How the primary hands its workers their slot and the shared launch-UI cookie key (never set by operators). */
const COOKIE_KEY_ENV = 'HEARTH_WORKER_COOKIE_KEY';
const SLOT_ENV = 'HEARTH_WORKER_SLOT';

/** The environment the primary adds to the worker it forks for `slot`. */
export function workerEnv(cookieKey: Buffer, slot: number): Record<string, string> {
  return { [COOKIE_KEY_ENV]: cookieKey.toString('base64url'), [SLOT_ENV]: String(slot) };
}

/**
 * A worker's role, from the environment its primary gave it, and that environment without the key
 * (what the worker passes on to its store process).
 */
export function workerRoleFrom(
  env: NodeJS.ProcessEnv,
  pid: number,
): { role: WorkerRole; env: NodeJS.ProcessEnv } {
  const { [COOKIE_KEY_ENV]: encoded, [SLOT_ENV]: slotText, ...rest } = env;
  const slot = Number(slotText);
  if (!Number.isInteger(slot) || slot < 0) throw new Error(`${SLOT_ENV} is missing or invalid`);
  const cookieKey = Buffer.from(encoded ?? '', 'base64url');
  if (cookieKey.length < 32)
    throw new Error(`${COOKIE_KEY_ENV} is missing: workers are started by the primary`);
  return { role: { name: String(pid), slot, cookieKey }, env: rest };
}

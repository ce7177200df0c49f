import type { WorkerRole } from './start-hearth.js';

/** How the primary hands each worker its slot (never set by operators). */
const SLOT_ENV = 'HEARTH_WORKER_SLOT';

/** The environment the primary adds to the worker it forks for `slot`. */
export function workerEnv(slot: number): Record<string, string> {
  return { [SLOT_ENV]: String(slot) };
}

/**
 * A worker's role, from the environment its primary gave it, and that environment without the slot
 * (what the worker passes on to its store).
 */
export function workerRoleFrom(
  env: NodeJS.ProcessEnv,
  pid: number,
): { role: WorkerRole; env: NodeJS.ProcessEnv } {
  const { [SLOT_ENV]: slotText, ...rest } = env;
  const slot = Number(slotText);
  if (!Number.isInteger(slot) || slot < 0)
    throw new Error(`${SLOT_ENV} is missing or invalid: workers are started by the primary`);
  return { role: { name: String(pid), slot }, env: rest };
}

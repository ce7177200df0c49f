import type { ResourceLimits } from 'node:worker_threads';

/**
 * V8 limits for Hearth's SQLite helper threads (the audit writer, the WAL checkpointer). Their work
 * happens in SQLite, not in JavaScript: they allocate little and keep little alive. With the
 * defaults each thread's young generation grows like the main thread's, to two 16 MiB semi-spaces
 * under load (measured: 28 MiB of the audit writer's 45 MiB heap at 600 patients), which is resident
 * memory the thread never needs. Two 2 MiB semi-spaces hold what a batch allocates.
 */
export const SQLITE_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 6 };

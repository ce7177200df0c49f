import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { openAdmin } from '../auth/index.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { openEngine, storeIndexer, storeSchema } from '../store/server.js';
import { auditTrailFor } from './audit-trail.js';
import { seedDemoData } from './demo.js';
import { startStoreThread } from './start-store.js';

/**
 * The one-time work of a start with several workers (WORKERS > 1), done by the primary before it
 * forks them, so that workers never race on it: DATA_DIR, the auth database and its first signing
 * keys, the audit database and its checkpoint key, the store schema, and `--demo` seeding (through a
 * temporary store thread, the store's own write path).
 */
export async function prepareDataDir(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  demoPatients: number | undefined,
): Promise<void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const admin = await openAdmin(config);
  try {
    await admin.keys.ensure();
    const audit = auditTrailFor(config, log);
    try {
      // Creates the audit tables (SQLite file or PostgreSQL schema) and the one checkpoint key.
      await audit.ready();
      if (config.fhirUpstream !== undefined) return;
      if (demoPatients === undefined) {
        await migrateStore(config);
        return;
      }
      const secret = randomBytes(32).toString('base64url');
      const store = await startStoreThread(config, secret, log, env, 'prepare');
      try {
        const socketPath = store.ready.address;
        await seedDemoData(config, { socketPath }, admin, audit, log, demoPatients);
      } finally {
        await store.stop();
      }
    } finally {
      await audit.close();
    }
  } finally {
    await admin.close();
  }
}

/** Applies the store's schema migrations (what `createStore` applies on open; a no-op when done). */
async function migrateStore(config: Config): Promise<void> {
  const engine = openEngine(config);
  try {
    await engine.migrate([
      ...storeSchema(engine.dialect),
      ...storeIndexer().schema(engine.dialect),
    ]);
  } finally {
    await engine.close();
  }
}

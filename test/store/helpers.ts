import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { createStore, type CreateStoreOptions, type Store } from '../../store/create-store.js';
import type { Engine } from '../../store/engines/engine.js';
import { noIndexing } from '../../store/repo/indexer.js';
import { createSearchProvider, searchIndexer } from '../../store/search/index.js';
import { testEngines, type TestEngine } from '../support/engines.js';

export const BASE = 'http://fhir.test/fhir';

export interface TestStore {
  dir: string;
  config: Config;
  engine: Engine;
  store: Store;
  server: Server;
  api: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

/** A store on a fresh database (`on`, SQLite by default), served over real HTTP (ephemeral port). */
export async function testStore(
  env: Record<string, string> = {},
  extra: Partial<CreateStoreOptions> = {},
  on: TestEngine = testEngines[0] as TestEngine,
): Promise<TestStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-store-'));
  const config = loadConfig({
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://fhir.test',
    ...env,
  });
  const db = on.open();
  const engine = db.engine;
  const store = await createStore({
    config,
    engine,
    indexer: noIndexing,
    log: createLogger('silent', 'store-test'),
    ...extra,
  });
  const server = store.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api = supertest(server);
  return {
    dir,
    config,
    engine,
    store,
    server,
    api,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      await db.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The options that give a test store search: the search indexer and a search provider. */
export function withSearch(): Pick<CreateStoreOptions, 'indexer' | 'search'> {
  const config = loadConfig({ LOG_LEVEL: 'silent', PUBLIC_URL: 'http://fhir.test' });
  return { indexer: searchIndexer, search: createSearchProvider(config) };
}

export const FHIR = 'application/fhir+json';

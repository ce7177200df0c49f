import {
  openPostgresEngine,
  type PostgresEngine,
  type PostgresEngineOptions,
} from '../../store/engines/postgres/index.js';
import { freshSchema, type TestSchema } from './postgres.js';

/** A promise and the function that resolves it. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  const out = { resolve: () => undefined as unknown, promise: Promise.resolve() };
  out.promise = new Promise<void>((r) => {
    out.resolve = r;
  });
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PostgresEngines {
  /** Another engine on this test's schema (another process's view), closed after the test. */
  open: (o?: Partial<PostgresEngineOptions>) => PostgresEngine;
  /** This test's schema. */
  readonly schema: string;
  /** This test's first engine, with a table `item (k TEXT PRIMARY KEY, v BIGINT NOT NULL)`. */
  readonly engine: PostgresEngine;
}

/**
 * Registers, in the calling `describe`, a fresh PostgreSQL schema for each test with one engine
 * on it; every engine the test opened is closed and the schema dropped after it.
 */
export function postgresEngines(): PostgresEngines {
  let target: TestSchema | undefined;
  let first: PostgresEngine | undefined;
  const engines: PostgresEngine[] = [];
  const open = (o: Partial<PostgresEngineOptions> = {}): PostgresEngine => {
    if (target === undefined) throw new Error('postgresEngines: open() outside a test');
    const engine = openPostgresEngine({ url: target.url, ...o });
    engines.push(engine);
    return engine;
  };
  beforeEach(async () => {
    target = freshSchema();
    first = open();
    await first.migrate(['CREATE TABLE item (k TEXT PRIMARY KEY, v BIGINT NOT NULL)']);
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await target?.drop();
  });
  return {
    open,
    get schema() {
      if (target === undefined) throw new Error('postgresEngines: schema outside a test');
      return target.schema;
    },
    get engine() {
      if (first === undefined) throw new Error('postgresEngines: engine outside a test');
      return first;
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../../store/engines/engine.js';
import { openPostgresEngine } from '../../store/engines/postgres/index.js';
import { openSqliteEngine } from '../../store/engines/sqlite/index.js';
import { freshSchema } from './postgres.js';

/** A fresh, empty database on one engine. */
export interface TestDatabase {
  engine: Engine;
  /** What STORE_URL would be for this database (`sqlite:/tmp/…` or `postgres://…?schema=…`). */
  storeUrl: string;
  /** A second, independent engine on the same database (another process's view). */
  other(): Engine;
  /** Closes the engines it opened and deletes the database. */
  cleanup(): Promise<void>;
}

export interface TestEngine {
  name: 'sqlite' | 'postgres';
  open(): TestDatabase;
}

function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
  const file = path.join(dir, 'fhir.db');
  const opened: Engine[] = [openSqliteEngine({ file })];
  const other = (): Engine => {
    const e = openSqliteEngine({ file });
    opened.push(e);
    return e;
  };
  return {
    engine: opened[0] as Engine,
    storeUrl: `sqlite:${file}`,
    other,
    cleanup: async () => {
      await Promise.all(opened.map((e) => e.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(): TestDatabase {
  const target = freshSchema();
  const opened: Engine[] = [openPostgresEngine({ url: target.url })];
  const other = (): Engine => {
    const e = openPostgresEngine({ url: target.url });
    opened.push(e);
    return e;
  };
  return {
    engine: opened[0] as Engine,
    storeUrl: target.url,
    other,
    cleanup: async () => {
      await Promise.all(opened.map((e) => e.close()));
      await target.drop();
    },
  };
}

/**
 * Every engine the store runs on. A suite that should hold on both wraps itself in
 * `for (const e of testEngines) describe(`… (${e.name})`, () => { … e.open() … })`.
 */
export const testEngines: readonly TestEngine[] = [
  { name: 'sqlite', open: sqliteDatabase },
  { name: 'postgres', open: postgresDatabase },
];

/** `describe(title, …)` once per engine, the title suffixed with the engine's name. */
export function describeOnEngines(
  title: string,
  fn: (this: Mocha.Suite, engine: TestEngine) => void,
): void {
  for (const engine of testEngines) {
    describe(`${title} (${engine.name})`, function () {
      fn.call(this, engine);
    });
  }
}

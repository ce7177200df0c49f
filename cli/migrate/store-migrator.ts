import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { sqlitePath } from '../../common/store-url.js';
import {
  copyTable,
  openEngine,
  reindexAll,
  searchSchema,
  storeSchema,
  type Engine,
} from '../../store/server.js';
import { CliError } from '../output.js';
import type { MigrateEndpoint } from './endpoint.js';
import type { Migrator } from './migrator.js';

const RESOURCE = {
  table: 'resource',
  key: 'rid',
  columns: ['rid', 'type', 'id', 'version', 'last_updated', 'deleted', 'json'],
} as const;
const HISTORY = {
  table: 'history',
  key: 'hid',
  columns: ['hid', 'rid', 'type', 'id', 'version', 'last_updated', 'method', 'json'],
} as const;

/** The source's store engine, without creating anything (a missing SQLite file is refused). */
function openSource(from: MigrateEndpoint): Engine {
  const file = sqlitePath(from.config.storeUrl);
  if (file !== undefined && !existsSync(file)) throw new CliError(`no store at ${file}`);
  return openEngine(from.config);
}

/** The target's store engine with the store's and search's schema applied. */
async function openTarget(to: MigrateEndpoint): Promise<Engine> {
  const file = sqlitePath(to.config.storeUrl);
  if (file !== undefined) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const engine = openEngine(to.config);
  try {
    await engine.migrate([...storeSchema(engine.dialect), ...searchSchema(engine.dialect)]);
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

async function count(engine: Engine, table: string): Promise<number> {
  return (await engine.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0;
}

async function sameRow(from: Engine, to: Engine, t: typeof RESOURCE | typeof HISTORY) {
  const last = await to.get<Record<string, unknown>>(
    `SELECT ${t.key} AS k, type, id, version FROM ${t.table} ORDER BY ${t.key} DESC LIMIT 1`,
  );
  if (last === undefined) return true;
  const there = await from.get<Record<string, unknown>>(
    `SELECT type, id, version FROM ${t.table} WHERE ${t.key} = ?`,
    [last.k as number],
  );
  return (
    there !== undefined &&
    there.type === last.type &&
    there.id === last.id &&
    Number(there.version) === Number(last.version)
  );
}

/**
 * The built-in store: every current version (`resource`, row keys kept) and every version
 * (`history`, deletes included) copied as stored, byte for byte, in key order and in batches; then
 * the search indexes and the Patient compartment rebuilt on the target from the copied resources
 * (custom SearchParameters included), exactly as `hearth reindex` does.
 */
export const storeMigrator: Migrator = {
  name: 'store',
  async check(from, to, resume) {
    const source = openSource(from);
    const target = await openTarget(to);
    try {
      try {
        await count(source, 'resource');
      } catch (err) {
        throw new CliError(`${from.label} holds no Hearth store: ${(err as Error).message}`);
      }
      const held = (await count(target, 'resource')) + (await count(target, 'history'));
      if (held === 0) return;
      if (!resume) {
        throw new CliError(
          `${to.label} already holds a store (${held} rows); migrate into an empty database or schema, or pass --resume to finish an interrupted migrate`,
        );
      }
      if (!(await sameRow(source, target, RESOURCE)) || !(await sameRow(source, target, HISTORY))) {
        throw new CliError(
          `${to.label} holds a store that is not a partial copy of ${from.label}; --resume refused`,
        );
      }
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  },
  async copy(from, to, progress) {
    const source = openSource(from);
    const target = await openTarget(to);
    try {
      progress.phase('resources', await count(source, 'resource'));
      await copyTable(source, target, {
        ...RESOURCE,
        onBatch: (n) => {
          progress.advance(n);
        },
      });
      progress.phase('history', await count(source, 'history'));
      await copyTable(source, target, {
        ...HISTORY,
        onBatch: (n) => {
          progress.advance(n);
        },
      });
      const live = await target.get<{ n: number }>(
        'SELECT count(*) AS n FROM resource WHERE deleted = 0',
      );
      progress.phase('search index', live?.n ?? 0);
      const indexed = await reindexAll(target, 500, (n) => {
        progress.advance(n);
      });
      return {
        resources: await count(target, 'resource'),
        versions: await count(target, 'history'),
        indexed: indexed.resources,
      };
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  },
};

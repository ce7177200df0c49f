import { dialectOf } from '../../../../store/engines/index.js';
import { indexResource, searchSchema, unindexResource } from '../../../../store/search/index.js';
import { testEngines, type TestEngine } from '../../../support/engines.js';

/** The core tables the store owns (same shape as the store's), for search tests. */
const core = ({ key, int }: { key: string; int: string }) => [
  `CREATE TABLE IF NOT EXISTS resource (rid ${key}, type TEXT NOT NULL, id TEXT NOT NULL,
    version ${int} NOT NULL, last_updated ${int} NOT NULL, deleted ${int} NOT NULL DEFAULT 0,
    json TEXT NOT NULL, UNIQUE(type, id))`,
  'CREATE INDEX IF NOT EXISTS resource_type_lu ON resource (type, last_updated)',
  `CREATE TABLE IF NOT EXISTS history (hid ${key}, rid ${int} NOT NULL, version ${int} NOT NULL,
    last_updated ${int} NOT NULL, method TEXT NOT NULL, json TEXT, UNIQUE(rid, version))`,
];

export interface Res {
  resourceType: string;
  id?: string;
  meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A fresh database (SQLite by default) with the core tables and the search schema, and a write helper. */
export class TestStore {
  private readonly db;
  readonly engine;
  private clock = Date.UTC(2024, 0, 1);

  constructor(on: TestEngine = testEngines[0] as TestEngine) {
    this.db = on.open();
    this.engine = this.db.engine;
  }

  async init(): Promise<this> {
    const d = this.engine.dialect;
    await this.engine.migrate([...core(dialectOf(d).types), ...searchSchema(d)]);
    return this;
  }

  /** Creates or updates a resource the way the store's write path does (row + index, one tx). */
  async put(resource: Res, lastUpdated?: number): Promise<Res> {
    const id = resource.id ?? Math.random().toString(36).slice(2, 12);
    const when = lastUpdated ?? (this.clock += 1000);
    return this.engine.transaction(async (tx) => {
      const prev = await tx.get<{ rid: number; version: number }>(
        'SELECT rid, version FROM resource WHERE type = ? AND id = ?',
        [resource.resourceType, id],
      );
      const version = (prev?.version ?? 0) + 1;
      const stored: Res = {
        ...resource,
        id,
        meta: {
          ...(resource.meta ?? {}),
          versionId: String(version),
          lastUpdated: new Date(when).toISOString(),
        },
      };
      const json = JSON.stringify(stored);
      let rid: number;
      if (prev === undefined) {
        const row = await tx.get<{ rid: number }>(
          'INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES (?, ?, ?, ?, 0, ?) RETURNING rid',
          [resource.resourceType, id, version, when, json],
        );
        rid = row?.rid ?? 0;
      } else {
        rid = prev.rid;
        await tx.run(
          'UPDATE resource SET version = ?, last_updated = ?, deleted = 0, json = ? WHERE rid = ?',
          [version, when, json, rid],
        );
      }
      await indexResource(tx, rid, stored);
      return stored;
    });
  }

  async remove(type: string, id: string): Promise<void> {
    await this.engine.transaction(async (tx) => {
      const row = await tx.get<{ rid: number }>(
        'SELECT rid FROM resource WHERE type = ? AND id = ?',
        [type, id],
      );
      if (row === undefined) return;
      await tx.run('UPDATE resource SET deleted = 1, version = version + 1 WHERE rid = ?', [
        row.rid,
      ]);
      await unindexResource(tx, row.rid);
    });
  }

  close(): Promise<void> {
    return this.db.cleanup();
  }
}

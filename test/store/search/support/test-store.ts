import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexResource, searchSchema, unindexResource } from '../../../../store/search/index.js';
import { TestSqliteEngine } from './sqlite-engine.js';

/** The core tables the store owns (same shape as the store's), for search tests. */
const CORE = [
  `CREATE TABLE IF NOT EXISTS resource (rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL, last_updated INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
    json TEXT NOT NULL, UNIQUE(type, id))`,
  'CREATE INDEX IF NOT EXISTS resource_type_lu ON resource (type, last_updated)',
  `CREATE TABLE IF NOT EXISTS history (hid INTEGER PRIMARY KEY, rid INTEGER NOT NULL, version INTEGER NOT NULL,
    last_updated INTEGER NOT NULL, method TEXT NOT NULL, json TEXT, UNIQUE(rid, version))`,
];

export interface Res {
  resourceType: string;
  id?: string;
  meta?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A temp-dir SQLite database with the core tables and the search schema, and a write helper. */
export class TestStore {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hearth-search-'));
  readonly engine = new TestSqliteEngine(path.join(this.dir, 'fhir.db'));
  private clock = Date.UTC(2024, 0, 1);

  async init(): Promise<this> {
    await this.engine.migrate([...CORE, ...searchSchema('sqlite')]);
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
        rid = (
          await tx.run(
            'INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES (?, ?, ?, ?, 0, ?)',
            [resource.resourceType, id, version, when, json],
          )
        ).lastInsertRowid;
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

  async close(): Promise<void> {
    await this.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

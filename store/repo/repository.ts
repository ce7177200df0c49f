import { randomUUID } from 'node:crypto';
import { TurnBatch } from '../../common/turn-batch.js';
import type { Queryable, Tx } from '../engines/engine.js';
import { plainView, stringifyJson, type JsonObject } from '../fhir/json.js';
import { gone, notFound, preconditionFailed } from '../fhir/outcome.js';
import type { Indexer } from './indexer.js';
import { withServerMeta } from './meta.js';
import {
  HISTORY_COLUMNS,
  insertsWithIndex,
  writeVersion,
  RESOURCE_COLUMNS,
  type HistoryRow,
  type ResourceRow,
} from './rows.js';

/** A version the store has just written. */
export interface Written {
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
  /** The stored JSON text (what a read returns). */
  json: string;
  /** Plain JSON of the stored version. */
  resource: Record<string, unknown>;
  /**
   * `resource` again when it equals `JSON.parse(json)` (see VersionInfo.parsed), so the
   * disclosure's patient compartments are read without parsing the text again: always, unless the
   * text has a `"__proto__"` (toPlain's copy makes such a member the prototype, a parse keeps it).
   */
  parsed?: Record<string, unknown>;
  /** True when this write created the resource (or re-created a deleted one). */
  created: boolean;
}

export interface Deleted {
  type: string;
  id: string;
  /** Version of the delete, when something was deleted. */
  version?: number;
  lastUpdated?: number;
  /** Plain JSON of the version that was deleted. */
  previous?: Record<string, unknown>;
}

export type WriteMethod = 'POST' | 'PUT' | 'PATCH';

const READ_ONE = `SELECT ${RESOURCE_COLUMNS} FROM resource WHERE type = ? AND id = ?`;
const READ_MANY = `SELECT ${RESOURCE_COLUMNS} FROM resource WHERE (type, id) IN (SELECT k->>0, k->>1 FROM jsonb_array_elements(?::jsonb) AS k)`;

/** `Type/id` as its two parts. */
function typeAndId(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The current rows of `keys` (`Type/id`) in one query (PostgreSQL: an index lookup per key). */
function readMany(db: Queryable, keys: readonly string[]): Promise<ResourceRow[]> {
  return db.all<ResourceRow>(READ_MANY, [JSON.stringify(keys.map(typeAndId))]);
}

/**
 * Reads outside a transaction on PostgreSQL, where each was a round trip and a statement of its
 * own: those asked during one event-loop turn go as one query (TurnBatch), a lone one as the plain
 * primary-key lookup.
 */
function turnReads(db: Queryable): TurnBatch<string, ResourceRow | undefined> {
  return new TurnBatch<string, ResourceRow | undefined>(async (keys) => {
    const [one] = keys;
    const rows =
      keys.length === 1 && one !== undefined
        ? await db.all<ResourceRow>(READ_ONE, typeAndId(one))
        : await readMany(db, keys);
    return new Map(rows.map((r) => [`${r.type}/${r.id}`, r]));
  }, undefined);
}

/**
 * Reads and writes resources and their history. Every write runs inside a caller's transaction,
 * and calls the Indexer in that same transaction right after the resource row is written. Every
 * write first takes `tx.lockKey('Type/id')`: on PostgreSQL that orders writers of one resource
 * across processes (no-op on SQLite); anything else writing these rows must take it too.
 */
export class Repository {
  /** Rows read ahead for a transaction (`prefetch`), each served until the transaction writes it. */
  private readonly ahead = new WeakMap<Queryable, Map<string, ResourceRow | undefined>>();
  /** Transactions whose inserts are sent without waiting (`writeBehind`): the inserts sent. */
  private readonly behind = new WeakMap<Tx, Promise<unknown>[]>();
  /** Per PostgreSQL engine (reads outside transactions): a turn's reads in one query. */
  private readonly turnReads = new WeakMap<Queryable, TurnBatch<string, ResourceRow | undefined>>();

  constructor(
    private readonly indexer: Indexer,
    private readonly clock: () => number = Date.now,
  ) {}

  read(db: Queryable, type: string, id: string): Promise<ResourceRow | undefined> {
    const ahead = this.ahead.get(db);
    const key = `${type}/${id}`;
    if (ahead?.has(key) === true) return Promise.resolve(ahead.get(key));
    if (db.dialect === 'postgres' && !isTx(db)) {
      let turn = this.turnReads.get(db);
      if (turn === undefined) {
        turn = turnReads(db);
        this.turnReads.set(db, turn);
      }
      return turn.get(key);
    }
    return db.get<ResourceRow>(READ_ONE, [type, id]);
  }

  /**
   * Reads the current rows of `keys` (`Type/id`) in one query, for the reads of each in `tx`
   * (PostgreSQL, where each read is a round trip; SQLite reads in-process and skips this). Call
   * only once `tx` holds their locks (`lockKeys`), so nobody else changes them meanwhile. A row is
   * served until this repository writes its resource in `tx` (`dropAhead`); reads after that go to
   * the database and see the write. An update under an access constraint reads its row twice (the
   * check, then the write): each read of a transaction Bundle's PUT entries was a round trip.
   */
  async prefetch(tx: Tx, keys: readonly string[]): Promise<void> {
    if (tx.dialect !== 'postgres' || keys.length === 0) return;
    const rows = await readMany(tx, keys);
    const ahead = new Map<string, ResourceRow | undefined>(keys.map((k) => [k, undefined]));
    for (const row of rows) ahead.set(`${row.type}/${row.id}`, row);
    this.ahead.set(tx, ahead);
  }

  /**
   * From now on an insert in `tx` (PostgreSQL, where it is one statement with its index rows) is
   * not waited for: it joins the inserts around it in one statement (`Tx.enlist`), sent before
   * whatever the transaction runs next (which so sees it) or at the end of the event-loop turn,
   * and the caller prepares its next write while PostgreSQL runs it. In a transaction Bundle each
   * entry's insert was a round trip the store thread waited for, and PostgreSQL waited for the
   * store thread's next one. The caller awaits `writesBehind(tx)` before the transaction ends, and
   * attributes a failure.
   */
  writeBehind(tx: Tx): void {
    if (tx.enlist !== undefined) this.behind.set(tx, []);
  }

  /** The inserts `tx` has sent without waiting (see `writeBehind`), in order. */
  writesBehind(tx: Tx): readonly Promise<unknown>[] {
    return this.behind.get(tx) ?? [];
  }

  /** `type/id` has changed in `tx`: its row read ahead no longer holds. */
  private dropAhead(tx: Tx, type: string, id: string): void {
    this.ahead.get(tx)?.delete(`${type}/${id}`);
  }

  /** The current, not deleted version: 404 when it never existed, 410 when deleted. */
  async readLive(db: Queryable, type: string, id: string): Promise<ResourceRow> {
    const row = await this.read(db, type, id);
    if (row === undefined) throw notFound(`${type}/${id} is not known`);
    if (row.deleted !== 0) throw gone(`${type}/${id} was deleted`);
    return row;
  }

  async vread(
    db: Queryable,
    type: string,
    id: string,
    version: number,
  ): Promise<HistoryRow | undefined> {
    return db.get<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS} FROM history WHERE type = ? AND id = ? AND version = ?`,
      [type, id, version],
    );
  }

  private nextTime(previous?: number): number {
    const now = this.clock();
    return previous !== undefined && now <= previous ? previous + 1 : now;
  }

  /** Creates a resource with a new server id (or `id` when given: import keeps ids). */
  async create(
    tx: Tx,
    type: string,
    resource: JsonObject,
    id: string = randomUUID(),
  ): Promise<Written> {
    return this.put(tx, type, id, resource, 'POST');
  }

  /**
   * Writes a new version of `type/id` (update, or update-as-create). `ifMatch`: the version the
   * client last saw; a different current version (or none) is a 412.
   */
  async put(
    tx: Tx,
    type: string,
    id: string,
    resource: JsonObject,
    method: WriteMethod,
    ifMatch?: number,
  ): Promise<Written> {
    await tx.lockKey(`${type}/${id}`);
    const current = await this.read(tx, type, id);
    if (
      ifMatch !== undefined &&
      (current === undefined || current.deleted !== 0 || current.version !== ifMatch)
    ) {
      throw preconditionFailed(
        `If-Match version ${ifMatch} does not match the current version of ${type}/${id}` +
          (current === undefined
            ? ' (none)'
            : ` (${current.version}${current.deleted !== 0 ? ', deleted' : ''})`),
      );
    }
    const version = current === undefined ? 1 : current.version + 1;
    const lastUpdated = this.nextTime(current?.last_updated);
    const stored = withServerMeta(resource, id, version, lastUpdated);
    const json = stringifyJson(stored);
    const plain = plainView(stored) as Record<string, unknown>;
    // an insert on PostgreSQL carries its index rows (one statement, shared with the inserts
    // around it in a transaction Bundle); else index after writing
    const inline =
      current === undefined && tx.enlist !== undefined
        ? await this.indexer.inline?.(tx, plain)
        : undefined;
    const next = { type, id, version, lastUpdated, method, json };
    if (inline !== undefined && tx.enlist !== undefined) {
      const behind = this.behind.get(tx);
      const sent = tx.enlist(insertsWithIndex, { ...next, inline }, behind === undefined);
      if (behind === undefined) await sent;
      else {
        sent.catch(() => undefined); // its caller awaits it (writesBehind)
        behind.push(sent);
      }
    } else {
      const rid = await writeVersion(tx, current?.rid, next);
      await this.indexer.index(tx, rid, plain, current === undefined);
    }
    this.dropAhead(tx, type, id);
    const created = current === undefined || current.deleted !== 0;
    const written: Written = {
      type,
      id,
      version,
      lastUpdated,
      json,
      resource: plain,
      created,
    };
    if (!json.includes('"__proto__"')) written.parsed = plain;
    return written;
  }

  /** Soft delete: a new version marked deleted; deleting a missing or deleted resource changes nothing. */
  async remove(tx: Tx, type: string, id: string, ifMatch?: number): Promise<Deleted> {
    await tx.lockKey(`${type}/${id}`);
    const current = await this.read(tx, type, id);
    if (
      ifMatch !== undefined &&
      (current === undefined || current.deleted !== 0 || current.version !== ifMatch)
    ) {
      throw preconditionFailed(
        `If-Match version ${ifMatch} does not match the current version of ${type}/${id}`,
      );
    }
    if (current === undefined || current.deleted !== 0) return { type, id };
    const version = current.version + 1;
    const lastUpdated = this.nextTime(current.last_updated);
    await tx.run('UPDATE resource SET version = ?, last_updated = ?, deleted = 1 WHERE rid = ?', [
      version,
      lastUpdated,
      current.rid,
    ]);
    this.dropAhead(tx, type, id);
    await tx.run(
      'INSERT INTO history (rid, type, id, version, last_updated, method, json) VALUES (?, ?, ?, ?, ?, ?, NULL)',
      [current.rid, type, id, version, lastUpdated, 'DELETE'],
    );
    await this.indexer.unindex(tx, current.rid);
    const previous = JSON.parse(current.json) as Record<string, unknown>;
    return { type, id, version, lastUpdated, previous };
  }

  /** Removes the resource and every version of it. Returns how many versions were removed. */
  async hardDelete(
    tx: Tx,
    type: string,
    id: string,
  ): Promise<{ versions: number; previous?: Record<string, unknown> }> {
    await tx.lockKey(`${type}/${id}`);
    const current = await this.read(tx, type, id);
    if (current === undefined) return { versions: 0 };
    await this.indexer.unindex(tx, current.rid);
    const h = await tx.run('DELETE FROM history WHERE rid = ?', [current.rid]);
    await tx.run('DELETE FROM resource WHERE rid = ?', [current.rid]);
    this.dropAhead(tx, type, id);
    const previous =
      current.deleted === 0 ? (JSON.parse(current.json) as Record<string, unknown>) : undefined;
    return previous === undefined ? { versions: h.changes } : { versions: h.changes, previous };
  }

  /** Removes every version but the current one (`$purge-history`). */
  async purgeHistory(tx: Tx, type: string, id: string): Promise<number> {
    await tx.lockKey(`${type}/${id}`);
    const current = await this.readLive(tx, type, id);
    const r = await tx.run('DELETE FROM history WHERE rid = ? AND version < ?', [
      current.rid,
      current.version,
    ]);
    return r.changes;
  }
}

/** A transaction (its reads must see its own writes, and go on its connection). */
function isTx(db: Queryable): db is Tx {
  return 'lockKey' in db;
}

import { nowSeconds, type AuthQueries } from './auth-sql.js';
import type { AuthEventMap } from '../events.js';

export type AccountChange = AuthEventMap['account.changed'][0]['change'];
export type ClientChange = AuthEventMap['client.changed'][0]['change'];

interface Row {
  id: number;
  kind: 'account' | 'client';
  subject: string;
  change: string;
}

/**
 * A log of account and client changes in the auth database, written by whoever makes them (the CLI
 * in another process, or a server), so a server can emit them as audit events. Each change is
 * claimed by exactly one of the server processes sharing the database, so it is emitted once.
 */
export class AdminChanges {
  constructor(private readonly db: AuthQueries) {}

  async account(username: string, change: AccountChange): Promise<void> {
    await this.#insert('account', username, change);
  }

  async client(clientId: string, change: ClientChange): Promise<void> {
    await this.#insert('client', clientId, change);
  }

  async #insert(kind: Row['kind'], subject: string, change: string): Promise<void> {
    await this.db.run(
      'INSERT INTO admin_changes (at, kind, subject, change, emitted) VALUES (?, ?, ?, ?, 0)',
      [nowSeconds(), kind, subject, change],
    );
  }

  /** The id of the newest change (0 when none). */
  async lastId(): Promise<number> {
    const row = await this.db.get<{ id: number | null }>('SELECT max(id) AS id FROM admin_changes');
    return row?.id ?? 0;
  }

  /**
   * Claims the changes after `id` that no process has emitted yet (at most 1000), oldest first. Two
   * processes claiming at once get disjoint sets (the row update re-checks `emitted`). A cheap read
   * comes first, so an idle log costs no write.
   */
  async claim(id: number): Promise<Row[]> {
    const pending = await this.db.get<{ one: number }>(
      'SELECT 1 AS one FROM admin_changes WHERE emitted = 0 AND id > ? LIMIT 1',
      [id],
    );
    if (pending === undefined) return [];
    const rows = await this.db.all<Row>(
      `UPDATE admin_changes SET emitted = 1
       WHERE emitted = 0 AND id IN (
         SELECT id FROM admin_changes WHERE emitted = 0 AND id > ? ORDER BY id LIMIT 1000)
       RETURNING id, kind, subject, change`,
      [id],
    );
    return rows.sort((x, y) => x.id - y.id);
  }
}

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
 * in another process, or the server), so the server can emit them as audit events.
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
    await this.db.run('INSERT INTO admin_changes (at, kind, subject, change) VALUES (?, ?, ?, ?)', [
      nowSeconds(),
      kind,
      subject,
      change,
    ]);
  }

  /** The id of the newest change (0 when none). */
  async lastId(): Promise<number> {
    const row = await this.db.get<{ id: number | null }>('SELECT max(id) AS id FROM admin_changes');
    return row?.id ?? 0;
  }

  /** Changes after `id`, oldest first. */
  since(id: number): Promise<Row[]> {
    return this.db.all<Row>(
      'SELECT id, kind, subject, change FROM admin_changes WHERE id > ? ORDER BY id LIMIT 1000',
      [id],
    );
  }
}

import { nowSeconds, type AuthDb } from './open-auth-db.js';
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
  readonly #insert;
  readonly #since;
  readonly #last;
  readonly #purge;

  constructor(db: AuthDb) {
    this.#insert = db.prepare<[number, string, string, string]>(
      'INSERT INTO admin_changes (at, kind, subject, change) VALUES (?, ?, ?, ?)',
    );
    this.#since = db.prepare<[number], Row>(
      'SELECT id, kind, subject, change FROM admin_changes WHERE id > ? ORDER BY id LIMIT 1000',
    );
    this.#last = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM admin_changes');
    this.#purge = db.prepare<[number]>('DELETE FROM admin_changes WHERE at < ?');
  }

  account(username: string, change: AccountChange): void {
    this.#insert.run(nowSeconds(), 'account', username, change);
  }

  client(clientId: string, change: ClientChange): void {
    this.#insert.run(nowSeconds(), 'client', clientId, change);
  }

  /** The id of the newest change (0 when none). */
  lastId(): number {
    return this.#last.get()?.id ?? 0;
  }

  /** Changes after `id`, oldest first. */
  since(id: number): Row[] {
    return this.#since.all(id);
  }

  /** Forgets changes older than a week (they were emitted long ago). */
  purge(): void {
    this.#purge.run(nowSeconds() - 7 * 86_400);
  }
}

import { randomUUID } from 'node:crypto';
import { nowSeconds, type AuthDb } from '../db/open-auth-db.js';
import type { UserInfo } from '../types.js';
import { AdminChanges } from '../db/admin-changes.js';
import { checkPasswordStrength, hashPassword } from './password.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  fhir_user: string | null;
  roles: string;
  enabled: number;
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly fhirUser?: string | undefined;
  readonly roles?: readonly string[] | undefined;
}

/** Thrown for a request the account store refuses (unknown user, duplicate, bad value). */
export class AccountError extends Error {
  override readonly name = 'AccountError';
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const FHIR_USER =
  /^(Practitioner|Patient|RelatedPerson|Person|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;

export function toUserInfo(row: UserRow): UserInfo {
  return {
    id: row.id,
    username: row.username,
    fhirUser: row.fhir_user ?? undefined,
    roles: JSON.parse(row.roles) as string[],
    enabled: row.enabled === 1,
  };
}

/** Local accounts: scrypt-hashed passwords, a fhirUser reference, roles and an enabled flag. */
export class Users {
  readonly #byId;
  readonly #byUsername;
  readonly #insert;
  readonly #all;
  readonly #setEnabled;
  readonly #remove;
  readonly #setPassword;
  readonly #setRoles;
  readonly #changes: AdminChanges;

  constructor(
    db: AuthDb,
    private readonly validRoles: () => readonly string[],
  ) {
    this.#changes = new AdminChanges(db);
    this.#byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
    this.#byUsername = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
    this.#insert = db.prepare<[string, string, string, string | null, string, number, number]>(
      `INSERT INTO users (id, username, password_hash, fhir_user, roles, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
    );
    this.#all = db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username');
    this.#setEnabled = db.prepare<[number, number, string]>(
      'UPDATE users SET enabled = ?, updated_at = ? WHERE username = ?',
    );
    this.#remove = db.prepare<[string]>('DELETE FROM users WHERE username = ?');
    this.#setPassword = db.prepare<[string, number, string]>(
      'UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?',
    );
    this.#setRoles = db.prepare<[string, number, string]>(
      'UPDATE users SET roles = ?, updated_at = ? WHERE username = ?',
    );
  }

  async add(user: NewUser): Promise<UserInfo> {
    if (!USERNAME.test(user.username)) {
      throw new AccountError('username must be 1-128 letters, digits or ._@- characters');
    }
    if (user.fhirUser !== undefined && !FHIR_USER.test(user.fhirUser)) {
      throw new AccountError('fhir-user must look like Practitioner/ID or Patient/ID');
    }
    const weak = checkPasswordStrength(user.password);
    if (weak !== undefined) throw new AccountError(weak);
    const roles = this.checkRoles(user.roles ?? []);
    if (this.#byUsername.get(user.username) !== undefined) {
      throw new AccountError(`user ${user.username} already exists`);
    }
    const hash = await hashPassword(user.password);
    const now = nowSeconds();
    const id = randomUUID();
    try {
      this.#insert.run(
        id,
        user.username,
        hash,
        user.fhirUser ?? null,
        JSON.stringify(roles),
        now,
        now,
      );
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) {
        throw new AccountError(`user ${user.username} already exists`);
      }
      throw err;
    }
    this.#changes.account(user.username, 'added');
    return this.mustFind(user.username);
  }

  list(): UserInfo[] {
    return this.#all.all().map(toUserInfo);
  }

  findById(id: string): UserInfo | undefined {
    const row = this.#byId.get(id);
    return row === undefined ? undefined : toUserInfo(row);
  }

  findByUsername(username: string): UserInfo | undefined {
    const row = this.#byUsername.get(username);
    return row === undefined ? undefined : toUserInfo(row);
  }

  /** The stored hash, for sign-in only. */
  passwordHash(username: string): { user: UserInfo; hash: string } | undefined {
    const row = this.#byUsername.get(username);
    return row === undefined ? undefined : { user: toUserInfo(row), hash: row.password_hash };
  }

  setEnabled(username: string, enabled: boolean): void {
    this.changed(this.#setEnabled.run(enabled ? 1 : 0, nowSeconds(), username).changes, username);
    this.#changes.account(username, enabled ? 'enabled' : 'disabled');
  }

  remove(username: string): void {
    this.changed(this.#remove.run(username).changes, username);
    this.#changes.account(username, 'removed');
  }

  async setPassword(username: string, password: string): Promise<void> {
    const weak = checkPasswordStrength(password);
    if (weak !== undefined) throw new AccountError(weak);
    this.mustFind(username);
    const hash = await hashPassword(password);
    this.changed(this.#setPassword.run(hash, nowSeconds(), username).changes, username);
    this.#changes.account(username, 'password');
  }

  setRoles(username: string, roles: readonly string[]): void {
    const checked = this.checkRoles(roles);
    this.changed(
      this.#setRoles.run(JSON.stringify(checked), nowSeconds(), username).changes,
      username,
    );
    this.#changes.account(username, 'roles');
  }

  private mustFind(username: string): UserInfo {
    const user = this.findByUsername(username);
    if (user === undefined) throw new AccountError(`no user ${username}`);
    return user;
  }

  private changed(changes: number, username: string): void {
    if (changes === 0) throw new AccountError(`no user ${username}`);
  }

  private checkRoles(roles: readonly string[]): string[] {
    const valid = this.validRoles();
    for (const r of roles) {
      if (!valid.includes(r))
        throw new AccountError(`unknown role ${r} (known: ${valid.join(', ')})`);
    }
    return [...new Set(roles)].sort();
  }
}

import { randomUUID } from 'node:crypto';
import { isUniqueViolation, nowSeconds, type AuthSql } from '../db/auth-sql.js';
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
  readonly #changes: AdminChanges;

  constructor(
    private readonly db: AuthSql,
    private readonly validRoles: () => readonly string[],
  ) {
    this.#changes = new AdminChanges(db);
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
    if ((await this.#row(user.username)) !== undefined) {
      throw new AccountError(`user ${user.username} already exists`);
    }
    const hash = await hashPassword(user.password);
    const now = nowSeconds();
    const id = randomUUID();
    try {
      await this.db.run(
        `INSERT INTO users (id, username, password_hash, fhir_user, roles, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
        [id, user.username, hash, user.fhirUser ?? null, JSON.stringify(roles), now, now],
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new AccountError(`user ${user.username} already exists`);
      throw err;
    }
    await this.#changes.account(user.username, 'added');
    return this.mustFind(user.username);
  }

  async list(): Promise<UserInfo[]> {
    const rows = await this.db.all<UserRow>('SELECT * FROM users ORDER BY username');
    return rows.map(toUserInfo);
  }

  async findById(id: string): Promise<UserInfo | undefined> {
    const row = await this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row === undefined ? undefined : toUserInfo(row);
  }

  async findByUsername(username: string): Promise<UserInfo | undefined> {
    const row = await this.#row(username);
    return row === undefined ? undefined : toUserInfo(row);
  }

  #row(username: string): Promise<UserRow | undefined> {
    return this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
  }

  /** The stored hash, for sign-in only. */
  async passwordHash(username: string): Promise<{ user: UserInfo; hash: string } | undefined> {
    const row = await this.#row(username);
    return row === undefined ? undefined : { user: toUserInfo(row), hash: row.password_hash };
  }

  async setEnabled(username: string, enabled: boolean): Promise<void> {
    this.changed(
      await this.db.run('UPDATE users SET enabled = ?, updated_at = ? WHERE username = ?', [
        enabled ? 1 : 0,
        nowSeconds(),
        username,
      ]),
      username,
    );
    await this.#changes.account(username, enabled ? 'enabled' : 'disabled');
  }

  async remove(username: string): Promise<void> {
    this.changed(await this.db.run('DELETE FROM users WHERE username = ?', [username]), username);
    await this.#changes.account(username, 'removed');
  }

  async setPassword(username: string, password: string): Promise<void> {
    const weak = checkPasswordStrength(password);
    if (weak !== undefined) throw new AccountError(weak);
    await this.mustFind(username);
    const hash = await hashPassword(password);
    this.changed(
      await this.db.run('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?', [
        hash,
        nowSeconds(),
        username,
      ]),
      username,
    );
    await this.#changes.account(username, 'password');
  }

  async setRoles(username: string, roles: readonly string[]): Promise<void> {
    const checked = this.checkRoles(roles);
    this.changed(
      await this.db.run('UPDATE users SET roles = ?, updated_at = ? WHERE username = ?', [
        JSON.stringify(checked),
        nowSeconds(),
        username,
      ]),
      username,
    );
    await this.#changes.account(username, 'roles');
  }

  private async mustFind(username: string): Promise<UserInfo> {
    const user = await this.findByUsername(username);
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

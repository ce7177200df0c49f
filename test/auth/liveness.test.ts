import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openAuthDb } from '../../auth/db/open-auth-db.js';
import { SqliteAuthSql } from '../../auth/db/sqlite-auth-sql.js';
import { TokenLiveness } from '../../auth/liveness.js';
import type { AccessTokenClaims } from '../../auth/types.js';

const NOW = 1_800_000_000;

describe('token liveness on SQLite (answers reused per claims object)', function () {
  let dir: string;
  let sql: SqliteAuthSql;
  let other: Database.Database;
  let liveness: TokenLiveness;
  const realNow = Date.now;
  let clock = NOW;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-liveness-'));
    sql = new SqliteAuthSql(openAuthDb(dir, 'normal'), path.join(dir, 'auth.db'));
    // Another connection to the same file: what another process or the admin CLI does.
    other = new Database(path.join(dir, 'auth.db'));
    other.pragma('busy_timeout = 5000');
    other
      .prepare(
        `INSERT INTO clients (client_id, name, metadata, roles, created_at)
         VALUES ('svc', 'svc', '{}', '["fhir-data-reader"]', 0), ('app', 'app', '{}', '[]', 0)`,
      )
      .run();
    other
      .prepare(
        `INSERT INTO users (id, username, password_hash, roles, enabled, created_at, updated_at)
         VALUES ('u1', 'u1', 'x', '["fhir-smart-user"]', 1, 0, 0)`,
      )
      .run();
    other
      .prepare(
        `INSERT INTO oidc_payloads (model, id, payload, expires_at) VALUES ('Grant', 'g1', '{}', ?)`,
      )
      .run(NOW + 2);
    liveness = new TokenLiveness(sql);
    clock = NOW;
    Date.now = () => clock * 1000;
  });

  afterEach(async () => {
    Date.now = realNow;
    other.close();
    await sql.close();
    await rm(dir, { recursive: true, force: true });
  });

  const service = (): AccessTokenClaims => ({
    jti: 'jti-svc',
    sub: 'svc',
    client_id: 'svc',
    roles: ['fhir-data-reader'],
    exp: NOW + 300,
  });
  const user = (): AccessTokenClaims => ({
    jti: 'jti-user',
    sub: 'u1',
    client_id: 'app',
    grant: 'g1',
    roles: ['fhir-smart-user'],
    exp: NOW + 300,
  });

  it('answers a repeated check of the same claims without a query while nothing changed', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    assert.equal(liveness.isAlive(claims), true);
  });

  it("refuses the very next check after another connection changes the client's roles", async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    assert.equal(liveness.isAlive(claims), true);
    other
      .prepare(`UPDATE clients SET roles = '["fhir-data-contributor"]' WHERE client_id = 'svc'`)
      .run();
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('refuses the very next check after another connection revokes the token id', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    other
      .prepare(`INSERT INTO revoked_tokens (jti, expires_at) VALUES ('jti-svc', ?)`)
      .run(NOW + 300);
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('refuses the very next check after another connection disables the user', async () => {
    const claims = user();
    assert.equal(await liveness.isAlive(claims), true);
    assert.equal(liveness.isAlive(claims), true);
    other.prepare(`UPDATE users SET enabled = 0 WHERE id = 'u1'`).run();
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('refuses the very next check after this connection removes the grant', async () => {
    const claims = user();
    assert.equal(await liveness.isAlive(claims), true);
    await sql.run(`DELETE FROM oidc_payloads WHERE model = 'Grant' AND id = 'g1'`);
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('refuses the very next check after this process revokes the token id', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    await new TokenLiveness(sql).revoke('jti-svc', NOW + 300);
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('asks again when the second changes (the grant expires with time alone)', async () => {
    const claims = user();
    assert.equal(await liveness.isAlive(claims), true);
    clock = NOW + 1;
    assert.equal(await liveness.isAlive(claims), true);
    clock = NOW + 2;
    assert.equal(await liveness.isAlive(claims), false);
  });

  it('does not reuse an answer across a transaction on this connection', async () => {
    const claims = user();
    assert.equal(await liveness.isAlive(claims), true);
    await sql.transaction(async (tx) => {
      await tx.run(`UPDATE users SET roles = '[]' WHERE id = 'u1'`);
    });
    assert.equal(await liveness.isAlive(claims), false);
  });
});

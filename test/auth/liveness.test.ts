import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuthSql } from '../../auth/db/auth-sql.js';
import { openAuthDb } from '../../auth/db/open-auth-db.js';
import { PostgresAuthSql } from '../../auth/db/postgres-auth-sql.js';
import { authPostgresTarget } from '../../auth/db/postgres-target.js';
import { SqliteAuthSql } from '../../auth/db/sqlite-auth-sql.js';
import { TokenLiveness } from '../../auth/liveness.js';
import type { AccessTokenClaims } from '../../auth/types.js';
import { freshSchema, type TestSchema } from '../support/postgres.js';

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

  /** Counts the queries `sql` runs and the reads of its change stamp from now on. */
  const spy = (): { queries: number; stamps: number } => {
    const seen = { queries: 0, stamps: 0 };
    const get = sql.get.bind(sql);
    const changeStamp = sql.changeStamp.bind(sql);
    sql.get = <T>(q: string, params?: readonly (string | number | null)[]) => {
      seen.queries += 1;
      return get<T>(q, params);
    };
    sql.changeStamp = () => {
      seen.stamps += 1;
      return changeStamp();
    };
    return seen;
  };

  it('answers a repeated check of the same claims without a query while nothing changed', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    const seen = spy();
    assert.equal(await liveness.isAlive(claims), true);
    assert.deepEqual(seen, { queries: 0, stamps: 1 });
  });

  it('reads the change stamp once for all the checks of one event-loop turn', async () => {
    const seen = spy();
    const answers = await Promise.all([
      liveness.isAlive(service()),
      liveness.isAlive(service()),
      liveness.isAlive(user()),
    ]);
    assert.deepEqual(answers, [true, true, true]);
    // one stamp for the turn; each claims object (a cached token) asks once
    assert.deepEqual(seen, { queries: 3, stamps: 1 });
    assert.equal(await liveness.isAlive(service()), true);
    assert.equal(seen.stamps, 2);
  });

  it('reads the change stamp after the callbacks of the turn in which a check was asked', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    // asked first, then another connection commits in the same turn: the check sees the commit
    const asked = liveness.isAlive(claims);
    other
      .prepare(`INSERT INTO revoked_tokens (jti, expires_at) VALUES ('jti-svc', ?)`)
      .run(NOW + 300);
    assert.equal(await asked, false);
  });

  it('rejects a check whose change stamp cannot be read (a closed database), without a crash', async () => {
    const closed = new SqliteAuthSql(openAuthDb(dir, 'normal'), path.join(dir, 'auth.db'));
    const check = new TokenLiveness(closed);
    await closed.close();
    await assert.rejects(check.isAlive(service()));
  });

  it("refuses the very next check after another connection changes the client's roles", async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    assert.equal(await liveness.isAlive(claims), true);
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
    assert.equal(await liveness.isAlive(claims), true);
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

describe('token liveness on PostgreSQL (one query per claims object and event-loop turn)', function () {
  this.timeout(30_000);
  let schema: TestSchema;
  let sql: PostgresAuthSql;
  /** Another pool on the same schema: what another process or the admin CLI does. */
  let other: PostgresAuthSql;
  let queries: number;
  let liveness: TokenLiveness;
  let failing = false;

  before(async () => {
    schema = freshSchema();
    sql = await PostgresAuthSql.open(authPostgresTarget(schema.url));
    other = await PostgresAuthSql.open(authPostgresTarget(schema.url));
  });
  after(async () => {
    await sql.close();
    await other.close();
    await schema.drop();
  });

  beforeEach(async () => {
    await other.run('DELETE FROM revoked_tokens');
    await other.run('DELETE FROM clients');
    await other.run(
      `INSERT INTO clients (client_id, name, metadata, roles, created_at)
       VALUES ('svc', 'svc', '{}', '["fhir-data-reader"]', 0), ('svc2', 'svc2', '{}', '["fhir-data-reader"]', 0)`,
    );
    queries = 0;
    failing = false;
    // The real PostgreSQL AuthSql (no change stamp), counting the liveness queries it is asked.
    const counted: AuthSql = Object.create(sql) as AuthSql;
    counted.get = <T>(q: string, params?: readonly (string | number | null)[]) => {
      queries++;
      if (failing) return Promise.reject(new Error('connection lost'));
      return sql.get<T>(q, params);
    };
    liveness = new TokenLiveness(counted);
  });

  const service = (id = 'svc'): AccessTokenClaims => ({
    jti: `jti-${id}`,
    sub: id,
    client_id: id,
    roles: ['fhir-data-reader'],
    exp: Math.floor(Date.now() / 1000) + 300,
  });

  it('answers the checks of one token made in one turn with one query', async () => {
    const claims = service();
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() => Promise.resolve(liveness.isAlive(claims))),
    );
    assert.deepEqual(answers, [true, true, true, true, true]);
    assert.equal(queries, 1);
  });

  it('asks again in the next turn, and refuses once another pool revoked the token', async () => {
    const claims = service();
    assert.equal(await liveness.isAlive(claims), true);
    await other.run('INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)', [
      'jti-svc',
      Math.floor(Date.now() / 1000) + 300,
    ]);
    assert.equal(await liveness.isAlive(claims), false);
    assert.equal(queries, 2);
  });

  it("sends a turn's query once the turn's callbacks have run, not at the first check", async () => {
    const claims = service();
    const first = liveness.isAlive(claims);
    // Still this turn: a request read later in it joins the same query, which is not sent yet, so
    // whatever any of them arrived after is in the query's snapshot.
    assert.equal(queries, 0);
    const second = liveness.isAlive(claims);
    await new Promise((r) => setImmediate(r));
    assert.equal(queries, 1);
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
  });

  it('asks separately for different tokens of one turn', async () => {
    await other.run('INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)', [
      'jti-svc2',
      Math.floor(Date.now() / 1000) + 300,
    ]);
    const [a, b] = await Promise.all([
      liveness.isAlive(service('svc')),
      liveness.isAlive(service('svc2')),
    ]);
    assert.deepEqual([a, b], [true, false]);
    assert.equal(queries, 2);
  });

  it("rejects every check of the turn when the turn's query fails", async () => {
    failing = true;
    const claims = service();
    const results = await Promise.allSettled([liveness.isAlive(claims), liveness.isAlive(claims)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(queries, 1);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { copyAuthState, openAdmin } from '../../auth/index.js';
import { authMigrator } from '../../cli/migrate/auth-migrator.js';
import { runCli, type CliResult } from '../support/hearth.js';
import { basic, tokenRequest } from './support/flow.js';
import { startHarness, type Harness } from './support/harness.js';
import { freshAuthSchema, type TestAuthSchema } from './support/postgres-auth.js';
import { addClient, addUser, admin, PASSWORD } from './support/seed.js';

/** Backend-services token (client_secret_basic) from harness `h`. */
async function backendToken(h: Harness, id: string, secret: string): Promise<string> {
  const r = await tokenRequest(
    h,
    { grant_type: 'client_credentials', scope: 'system/Patient.rs' },
    basic(id, secret),
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return String(r.body['access_token']);
}

async function activeKeys(h: Harness): Promise<{ kid: string; use: string }[]> {
  return admin(h, (a) =>
    a.sql.all<{ kid: string; use: string }>(
      'SELECT kid, use FROM signing_keys WHERE retired_at IS NULL ORDER BY use',
    ),
  );
}

describe('auth state on PostgreSQL, shared by processes', function () {
  this.timeout(120_000);
  let schema: TestAuthSchema;
  let a: Harness;
  let b: Harness;
  let cliDir: string;

  /** `hearth …` in a child process with its own DATA_DIR on the same database. */
  async function cli(args: string[], input?: string): Promise<CliResult> {
    const r = await runCli(
      ['--json', ...args],
      { DATA_DIR: cliDir, STORE_URL: schema.url, LOG_LEVEL: 'silent', PUBLIC_URL: a.base },
      input,
    );
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  }

  before(async () => {
    schema = freshAuthSchema();
    cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-'));
    a = await startHarness({ STORE_URL: schema.url });
    // Another process of the same deployment: its own DATA_DIR, the same public URL (issuer).
    b = await startHarness({ STORE_URL: schema.url, PUBLIC_URL: a.base });
  });
  after(async () => {
    await b.close();
    await a.close();
    fs.rmSync(cliDir, { recursive: true, force: true });
    await schema.drop();
  });

  it('keeps no auth state in DATA_DIR and answers ping from its own schema', async () => {
    assert.equal(fs.existsSync(path.join(a.dataDir, 'auth.db')), false);
    assert.equal(fs.existsSync(path.join(b.dataDir, 'auth.db')), false);
    await a.auth.ping();
    assert.equal(a.auth.storage, `postgres schema ${schema.schema}_auth`);
    assert.deepEqual(
      (await activeKeys(a)).map((k) => k.use),
      ['cookie', 'sig'],
    );
  });

  it('registers a client with the CLI that gets a token verified by every process', async () => {
    const added = JSON.parse(
      (
        await cli([
          'client',
          'add',
          '--name',
          'nightly export',
          '--secret',
          '--grant-type',
          'client_credentials',
          '--role',
          'fhir-data-reader',
        ])
      ).stdout,
    ) as { client_id: string; client_secret: string };
    const listed = JSON.parse((await cli(['client', 'list'])).stdout) as { client_id: string }[];
    assert.ok(listed.some((c) => c.client_id === added.client_id));
    assert.ok((await b.auth.listClients()).some((c) => c.clientId === added.client_id));
    const at = await backendToken(a, added.client_id, added.client_secret);
    assert.equal((await b.auth.verifyAccessToken(at))?.client_id, added.client_id);
    await cli(['client', 'remove', added.client_id]);
    assert.equal(await b.auth.isTokenAlive(decodeJwt(at)), false);
    assert.equal(await a.auth.verifyAccessToken(at), undefined);
  });

  it('manages users with the CLI, and a disabled user is refused by every process at once', async () => {
    const events: string[] = [];
    const onA = (e: { username: string; change: string }) => events.push(`a:${e.change}`);
    const onB = (e: { username: string; change: string }) => events.push(`b:${e.change}`);
    a.auth.events.on('account.changed', onA);
    b.auth.events.on('account.changed', onB);
    await cli(
      ['user', 'add', '--username', 'nurse', '--password-stdin', '--role', 'fhir-smart-user'],
      PASSWORD,
    );
    const users = JSON.parse((await cli(['user', 'list'])).stdout) as { username: string }[];
    assert.deepEqual(
      users.map((u) => u.username),
      ['nurse'],
    );
    const signedIn = await b.auth.verifyPassword('nurse', PASSWORD, '127.0.0.1');
    assert.equal(signedIn.ok, true);
    await cli(['user', 'disable', 'nurse']);
    assert.equal((await a.auth.verifyPassword('nurse', PASSWORD, '127.0.0.1')).ok, false);
    assert.equal((await b.auth.findUser('nurse'))?.enabled, false);
    // Each change becomes one event, at one of the processes (not one per process).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    a.auth.events.off('account.changed', onA);
    b.auth.events.off('account.changed', onB);
    assert.deepEqual(events.map((e) => e.slice(2)).sort(), ['added', 'disabled']);
  });

  it('refuses at one process, on the next request, a token revoked at another', async () => {
    const { clientId, clientSecret } = await addClient(a, {
      name: 'revoker',
      authMethod: 'client_secret_basic',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      roles: ['fhir-data-reader'],
    });
    assert.ok(clientSecret);
    const at = await backendToken(a, clientId, clientSecret);
    assert.equal(await b.auth.isTokenAlive(decodeJwt(at)), true);
    const res = await fetch(`${a.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...basic(clientId, clientSecret),
      },
      body: new URLSearchParams({ token: at }).toString(),
    });
    assert.equal(res.status, 200);
    assert.equal(await b.auth.isTokenAlive(decodeJwt(at)), false);
    assert.equal(await b.auth.verifyAccessToken(at), undefined);
  });

  it('puts keys rotated by the CLI in use at every process within a second', async () => {
    const { clientId, clientSecret } = await addClient(a, {
      name: 'rotation',
      authMethod: 'client_secret_basic',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      roles: ['fhir-data-reader'],
    });
    assert.ok(clientSecret);
    const before = await backendToken(a, clientId, clientSecret);
    const { kid } = JSON.parse((await cli(['keys', 'rotate'])).stdout) as { kid: string };
    // b learns the new key when it sees a token naming it, without waiting for its periodic check.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await backendToken(a, clientId, clientSecret);
    assert.equal(decodeProtectedHeader(after).kid, kid);
    assert.ok(await b.auth.verifyAccessToken(after));
    assert.ok(await b.auth.verifyAccessToken(before));
    assert.ok((await b.auth.jwks()).keys.some((k) => k.kid === kid));
    const keys = await activeKeys(a);
    assert.deepEqual(
      keys.map((k) => k.use),
      ['cookie', 'sig'],
    );
  });
});

describe('auth on an empty PostgreSQL schema, started by several processes at once', function () {
  this.timeout(120_000);

  it('migrates once and creates exactly one signing key and one cookie key', async () => {
    const schema = freshAuthSchema();
    const started: Harness[] = [];
    try {
      const results = await Promise.allSettled(
        [1, 2, 3].map(() => startHarness({ STORE_URL: schema.url })),
      );
      for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
      assert.equal(
        started.length,
        3,
        JSON.stringify(results.filter((r) => r.status === 'rejected')),
      );
      const [first] = started;
      assert.ok(first);
      const all = await admin(first, (x) =>
        x.sql.all<{ use: string; retired_at: number | null }>(
          'SELECT use, retired_at FROM signing_keys ORDER BY use',
        ),
      );
      assert.deepEqual(all, [
        { use: 'cookie', retired_at: null },
        { use: 'sig', retired_at: null },
      ]);
      const jwks = await Promise.all(started.map(async (h) => JSON.stringify(await h.auth.jwks())));
      assert.equal(new Set(jwks).size, 1);
    } finally {
      await Promise.all(started.map((h) => h.close()));
      await schema.drop();
    }
  });
});

describe('copyAuthState (SQLite auth.db → PostgreSQL)', function () {
  this.timeout(120_000);

  it('copies accounts, clients, keys and tokens, so tokens and passwords keep working; a re-run changes nothing', async () => {
    const source = await startHarness();
    const schema = freshAuthSchema();
    const targetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-copy-'));
    const backDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-copy-back-'));
    let target: Harness | undefined;
    try {
      await addUser(source, 'clinician', { fhirUser: 'Practitioner/p1' });
      const { clientId, clientSecret } = await addClient(source, {
        name: 'exporter',
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grantTypes: ['client_credentials'],
        roles: ['fhir-data-reader'],
      });
      assert.ok(clientSecret);
      const at = await backendToken(source, clientId, clientSecret);
      const revoked = await backendToken(source, clientId, clientSecret);
      await fetch(`${source.issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...basic(clientId, clientSecret),
        },
        body: new URLSearchParams({ token: revoked }).toString(),
      });
      const from = source.config;
      const to = { storeUrl: schema.url, dataDir: targetDir, sqliteSync: 'normal' as const };
      const progress: string[] = [];
      const first = await copyAuthState(from, to, (p) => {
        if (p.done) progress.push(`${p.table}:${p.copied}`);
      });
      assert.equal(first.tables['users'], 1);
      assert.equal(first.tables['clients'], 1);
      assert.equal(first.tables['signing_keys'], 2);
      assert.equal(first.tables['revoked_tokens'], 1);
      assert.ok((first.tables['admin_changes'] ?? 0) >= 2);
      assert.equal(progress.length, 9);

      target = await startHarness({ STORE_URL: schema.url, PUBLIC_URL: source.base });
      assert.deepEqual(await activeKeys(target), await activeKeys(source));
      assert.ok(await target.auth.verifyAccessToken(at));
      assert.equal(await target.auth.verifyAccessToken(revoked), undefined);
      assert.equal((await target.auth.verifyPassword('clinician', PASSWORD, '10.0.0.1')).ok, true);
      assert.deepEqual(
        (await target.auth.listClients()).map((c) => c.clientId),
        [clientId],
      );

      const again = await copyAuthState(from, to);
      assert.deepEqual(again.tables, first.tables);
      const counts = await admin(target, (x) =>
        x.sql.get<{ users: number; keys: number; changes: number }>(
          `SELECT (SELECT count(*) FROM users) AS users,
             (SELECT count(*) FROM signing_keys) AS keys,
             (SELECT count(*) FROM admin_changes) AS changes`,
        ),
      );
      assert.deepEqual(counts, { users: 1, keys: 2, changes: first.tables['admin_changes'] });
      // New change-log entries continue after the copied ids.
      await admin(target, (x) => x.users.setEnabled('clinician', false));

      // And back: PostgreSQL → a fresh auth.db.
      const back = {
        storeUrl: `sqlite:${backDir}/fhir.db`,
        dataDir: backDir,
        sqliteSync: 'normal' as const,
      };
      const returned = await copyAuthState(to, back);
      assert.equal(returned.tables['admin_changes'], (first.tables['admin_changes'] ?? 0) + 1);
      const backAdmin = await openAdmin({
        ...source.config,
        dataDir: backDir,
        storeUrl: back.storeUrl,
      });
      try {
        assert.equal((await backAdmin.users.findByUsername('clinician'))?.enabled, false);
        assert.deepEqual((await backAdmin.keys.material()).jwks, await target.auth.jwks());
      } finally {
        await backAdmin.close();
      }
    } finally {
      await target?.close();
      await source.close();
      fs.rmSync(targetDir, { recursive: true, force: true });
      fs.rmSync(backDir, { recursive: true, force: true });
      await schema.drop();
    }
  });

  it('refuses to copy from a DATA_DIR that has no auth.db', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-copy-'));
    const schema = freshAuthSchema();
    try {
      await assert.rejects(
        copyAuthState(
          { storeUrl: `sqlite:${empty}/fhir.db`, dataDir: empty, sqliteSync: 'normal' },
          { storeUrl: schema.url, dataDir: empty, sqliteSync: 'normal' },
        ),
        /does not exist/,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
      await schema.drop();
    }
  });
});

describe('hearth migrate: the auth migrator', function () {
  this.timeout(120_000);

  it('copies the auth state with progress, then refuses that target unless --resume', async () => {
    const source = await startHarness();
    const schema = freshAuthSchema();
    try {
      await addUser(source, 'migrant');
      const from = { engine: 'sqlite' as const, label: 'sqlite:src', config: source.config };
      const to = {
        engine: 'postgres' as const,
        label: 'postgres target',
        config: Object.freeze({ ...source.config, storeUrl: schema.url }),
      };
      await authMigrator.check(from, to, false);
      const phases: string[] = [];
      let units = 0;
      const summary = await authMigrator.copy(from, to, {
        phase: (name, total) => phases.push(`${name}:${total}`),
        advance: (n) => (units += n),
      });
      assert.equal(summary['users'], 1);
      assert.ok(phases.includes('auth users:1'), phases.join(' '));
      assert.equal(
        units,
        Object.values(summary).reduce<number>((s, n) => s + Number(n), 0),
      );
      await assert.rejects(authMigrator.check(from, to, false), /already holds auth state/);
      await authMigrator.check(from, to, true);
    } finally {
      await source.close();
      await schema.drop();
    }
  });
});

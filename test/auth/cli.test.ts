import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { generateKeyPair, exportJWK } from 'jose';
import { registerAuthCommands } from '../../auth/index.js';
import { CliError } from '../../cli/output.js';
import { loadConfig } from '../../common/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the auth commands in-process, as cli/main.ts wires them (a subprocess per command would cost
 * seconds each); one test below runs the real entry point in a child process.
 */
async function hearth(dataDir: string, args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const program = new Command('hearth')
    .option('--json')
    .exitOverride()
    .configureOutput({ writeErr: (s) => (stderr += s), writeOut: (s) => (stdout += s) });
  registerAuthCommands(program, () =>
    loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SQLITE_SYNC: 'normal' }, dataDir),
  );
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  };
  try {
    await program.parseAsync(['node', 'hearth', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CliError)
      return { code: err.exitCode, stdout, stderr: `hearth: ${err.message}\n` };
    if (err instanceof CommanderError) return { code: err.exitCode || 2, stdout, stderr };
    throw err;
  } finally {
    process.stdout.write = write;
  }
}

/** Like hearth(), failing with the CLI output when the command fails. */
async function ok(dataDir: string, args: string[]): Promise<Run> {
  const r = await hearth(dataDir, args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${JSON.stringify(r)}`);
  return r;
}

/** The real `hearth` entry point in a child process. */
function hearthProcess(dataDir: string, args: string[], stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'silent',
          SQLITE_SYNC: 'normal',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code,
        stdout,
        stderr: stderr
          .split('\n')
          .filter((l) => !l.includes('WARNING'))
          .join('\n'),
      });
    });
    child.stdin.end(stdin);
  });
}

describe('hearth user|client|keys CLI', function () {
  this.timeout(60_000);
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-'));
  });
  after(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds a user with the password from stdin through the real entry point and lists it as JSON', async () => {
    const add = await hearthProcess(
      dataDir,
      [
        '--json',
        'user',
        'add',
        '--username',
        'dr.who',
        '--password-stdin',
        '--fhir-user',
        'Practitioner/p1',
        '--role',
        'fhir-smart-user',
      ],
      'a long enough password\n',
    );
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(JSON.parse(add.stdout), { username: 'dr.who' });
    const list = await hearth(dataDir, ['--json', 'user', 'list']);
    assert.deepEqual(JSON.parse(list.stdout), [
      {
        username: 'dr.who',
        fhirUser: 'Practitioner/p1',
        roles: ['fhir-smart-user'],
        enabled: true,
      },
    ]);
  });

  it('fails with a one-line reason and a non-zero exit for a duplicate user or an unknown role', async () => {
    const dup = await hearth(dataDir, [
      '--json',
      'user',
      'add',
      '--username',
      'dr.who',
      '--password',
      'another password',
    ]);
    assert.notEqual(dup.code, 0);
    assert.equal(dup.stdout, '');
    assert.equal(dup.stderr.trim().split('\n').length, 1);
    assert.match(dup.stderr, /already exists/);
    const role = await hearth(dataDir, [
      'user',
      'roles',
      'dr.who',
      'fhir-data-reader',
      'no-such-role',
    ]);
    assert.notEqual(role.code, 0);
    assert.match(role.stderr, /unknown role no-such-role/);
  });

  it('changes roles, disables, enables and removes a user', async () => {
    assert.equal(
      (await hearth(dataDir, ['--json', 'user', 'roles', 'dr.who', 'fhir-data-reader'])).code,
      0,
    );
    assert.equal((await ok(dataDir, ['--json', 'user', 'disable', 'dr.who'])).code, 0);
    let list = JSON.parse((await hearth(dataDir, ['--json', 'user', 'list'])).stdout) as {
      roles: string[];
      enabled: boolean;
    }[];
    assert.deepEqual(list[0], {
      username: 'dr.who',
      fhirUser: 'Practitioner/p1',
      roles: ['fhir-data-reader'],
      enabled: false,
    });
    assert.equal((await ok(dataDir, ['user', 'enable', 'dr.who'])).code, 0);
    await ok(dataDir, ['user', 'passwd', 'dr.who', '--password', 'a new long password']);
    assert.equal((await ok(dataDir, ['user', 'remove', 'dr.who'])).code, 0);
    list = JSON.parse((await hearth(dataDir, ['--json', 'user', 'list'])).stdout) as [];
    assert.deepEqual(list, []);
    const gone = await hearth(dataDir, ['user', 'disable', 'dr.who']);
    assert.notEqual(gone.code, 0);
  });

  it('registers confidential, public and asymmetric clients and removes one', async () => {
    const secret = await hearth(dataDir, [
      '--json',
      'client',
      'add',
      '--name',
      'Web',
      '--secret',
      '--auth-method',
      'client_secret_post',
      '--redirect-uri',
      'https://app.example/cb',
      '--launch-uri',
      'https://app.example/launch',
      '--scope',
      'openid launch patient/*.rs',
    ]);
    assert.equal(secret.code, 0, secret.stderr);
    const s = JSON.parse(secret.stdout) as { client_id: string; client_secret: string };
    assert.ok(s.client_id && s.client_secret.length >= 32);
    const pub = await hearth(dataDir, [
      '--json',
      'client',
      'add',
      '--name',
      'SPA',
      '--public',
      '--redirect-uri',
      'http://localhost:9000/cb',
    ]);
    assert.deepEqual(Object.keys(JSON.parse(pub.stdout) as object), ['client_id']);
    const { publicKey } = await generateKeyPair('ES384');
    const jwksFile = path.join(dataDir, 'bulk.jwks.json');
    fs.writeFileSync(
      jwksFile,
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }),
    );
    const bulk = await hearth(dataDir, [
      '--json',
      'client',
      'add',
      '--name',
      'Bulk',
      '--jwks-file',
      jwksFile,
      '--grant-type',
      'client_credentials',
      '--role',
      'fhir-data-exporter',
    ]);
    assert.equal(bulk.code, 0, bulk.stderr);
    const list = JSON.parse((await hearth(dataDir, ['--json', 'client', 'list'])).stdout) as {
      name: string;
      auth_method: string;
      grant_types: string[];
    }[];
    assert.deepEqual(
      list.map((c) => [c.name, c.auth_method, c.grant_types]),
      [
        ['Web', 'client_secret_post', ['authorization_code', 'refresh_token']],
        ['SPA', 'none', ['authorization_code', 'refresh_token']],
        ['Bulk', 'private_key_jwt', ['client_credentials']],
      ],
    );
    assert.equal((await ok(dataDir, ['client', 'remove', s.client_id])).code, 0);
    const again = await hearth(dataDir, ['client', 'remove', s.client_id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /no client/);
  });

  it('refuses contradictory or incomplete client registrations', async () => {
    const both = await hearth(dataDir, [
      'client',
      'add',
      '--name',
      'X',
      '--public',
      '--secret',
      '--redirect-uri',
      'https://x.example/cb',
    ]);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /exactly one of/);
    const publicBackend = await hearth(dataDir, [
      'client',
      'add',
      '--name',
      'X',
      '--public',
      '--grant-type',
      'client_credentials',
    ]);
    assert.notEqual(publicBackend.code, 0);
    const privateKey = path.join(dataDir, 'private.jwk');
    fs.writeFileSync(
      privateKey,
      JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }),
    );
    const leaked = await hearth(dataDir, [
      'client',
      'add',
      '--name',
      'X',
      '--jwks-file',
      privateKey,
    ]);
    assert.match(leaked.stderr, /public keys only/);
  });

  it('rotates the signing key, keeping the old one published', async () => {
    const first = await hearth(dataDir, ['--json', 'keys', 'rotate']);
    const second = await hearth(dataDir, ['--json', 'keys', 'rotate']);
    const a = (JSON.parse(first.stdout) as { kid: string }).kid;
    const b = (JSON.parse(second.stdout) as { kid: string }).kid;
    assert.notEqual(a, b);
    const mode = fs.statSync(path.join(dataDir, 'auth.db')).mode & 0o777;
    assert.equal(mode, 0o600);
  });
});

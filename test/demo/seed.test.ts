import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { seedDemo, type DemoAccountStore, type SeedOptions } from '../../demo/index.js';

/** An in-memory account store with the same contract as the adapter main.ts builds over auth. */
class MemoryAccounts implements DemoAccountStore {
  readonly users = new Map<
    string,
    { password: string; fhirUser: string; roles: readonly string[] }
  >();
  readonly clients: {
    clientId: string;
    launchUri: string;
    redirectUris: readonly string[];
    scope: string;
  }[] = [];
  userExists(username: string): boolean {
    return this.users.has(username);
  }
  addUser(input: {
    username: string;
    password: string;
    fhirUser: string;
    roles: readonly string[];
  }): Promise<void> {
    this.users.set(input.username, input);
    return Promise.resolve();
  }
  findClientsByLaunchUri(launchUri: string): string[] {
    return this.clients.filter((c) => c.launchUri === launchUri).map((c) => c.clientId);
  }
  addPublicClient(input: {
    launchUri: string;
    redirectUris: readonly string[];
    scope: string;
  }): Promise<{ clientId: string }> {
    const clientId = `client-${this.clients.length + 1}`;
    this.clients.push({ clientId, ...input });
    return Promise.resolve({ clientId });
  }
}

function run(accounts: MemoryAccounts, lines: string[], loaded: Bundle[]): Promise<unknown> {
  const options: SeedOptions = {
    publicUrl: 'http://localhost:8080',
    patients: 2,
    seed: 'seed-test',
    accounts,
    print: (l) => lines.push(l),
    importBundles: (bundles) => {
      let created = 0;
      for (const b of bundles) {
        loaded.push(b);
        created += b.entry?.length ?? 0;
      }
      return Promise.resolve({ created, updated: 0, failed: 0 });
    },
  };
  return seedDemo(options);
}

const hash = (o: unknown): string => createHash('sha256').update(JSON.stringify(o)).digest('hex');

describe('demo seeding', () => {
  it('loads the shared resources then one transaction Bundle per patient', async () => {
    const loaded: Bundle[] = [];
    await run(new MemoryAccounts(), [], loaded);
    assert.equal(loaded.length, 3);
    assert.equal(loaded[1]?.entry?.[0]?.resource?.resourceType, 'Patient');
  });

  it('creates a clinician and a patient account with random passwords printed once', async () => {
    const accounts = new MemoryAccounts();
    const lines: string[] = [];
    await run(accounts, lines, []);
    const clinician = accounts.users.get('clinician');
    const patient = accounts.users.get('patient');
    assert.ok(clinician && patient);
    assert.match(clinician.fhirUser, /^Practitioner\/[0-9a-f-]{36}$/);
    assert.match(patient.fhirUser, /^Patient\/[0-9a-f-]{36}$/);
    assert.ok(clinician.password.length >= 20 && clinician.password !== patient.password);
    assert.ok(lines.some((l) => l.includes(clinician.password)));
    assert.ok(lines.some((l) => l.includes(patient.password)));

    const other = new MemoryAccounts();
    await run(other, [], []);
    assert.notEqual(other.users.get('clinician')?.password, clinician.password);
  });

  it('is idempotent: a second run loads the same Bundles, keeps the accounts and the client', async () => {
    const accounts = new MemoryAccounts();
    const first: Bundle[] = [];
    await run(accounts, [], first);
    const before = new Map(accounts.users);
    const lines: string[] = [];
    const second: Bundle[] = [];
    await run(accounts, lines, second);
    assert.equal(hash(second), hash(first));
    assert.deepEqual(accounts.users, before);
    assert.equal(accounts.clients.length, 1);
    assert.ok(
      lines.some((l) => l.includes('already exists') && l.includes('hearth user passwd clinician')),
    );
    assert.ok(!lines.some((l) => l.includes(before.get('clinician')?.password ?? '(none)')));
  });

  it('registers the sample app as a public client with its launch and redirect URIs', async () => {
    const accounts = new MemoryAccounts();
    await run(accounts, [], []);
    const client = accounts.clients.at(0);
    assert.ok(client);
    assert.deepEqual(client.redirectUris, ['http://localhost:8080/apps/sample/']);
    assert.equal(client.launchUri, 'http://localhost:8080/apps/sample/launch.html');
    assert.match(client.scope, /patient\/\*\.rs/);
  });
});

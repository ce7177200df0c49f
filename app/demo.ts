import http from 'node:http';
import type { Bundle } from '@medplum/fhirtypes';
import type { Admin } from '../auth/index.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import {
  seedDemo,
  type DemoAccountStore,
  type ImportSummary,
  type SeedResult,
} from '../demo/index.js';
import { adminAuditEvent, type AuditTrail } from '../gateway/index.js';

/** Where the store listens (DATA_DIR's socket: reachable by the operator's account only). */
export interface StoreEndpoint {
  socketPath: string;
}

interface BundleResponse {
  entry?: { response?: { status?: string } }[];
}

function postBundle(
  store: StoreEndpoint,
  bundle: Bundle,
): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(JSON.stringify(bundle));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: store.socketPath,
        path: '/fhir',
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'content-length': payload.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Loads transaction Bundles through the store's own write path (validation, indexing). */
export function storeImporter(store: StoreEndpoint, log: Logger) {
  return async (bundles: Iterable<Bundle>): Promise<ImportSummary> => {
    let created = 0;
    let updated = 0;
    let failed = 0;
    for (const bundle of bundles) {
      const res = await postBundle(store, bundle);
      if (res.status !== 200) {
        failed += bundle.entry?.length ?? 0;
        log.error({ status: res.status, body: res.body.slice(0, 500) }, 'demo bundle failed');
        continue;
      }
      for (const e of (JSON.parse(res.body) as BundleResponse).entry ?? []) {
        const status = e.response?.status ?? '';
        if (status.startsWith('201')) created++;
        else if (status.startsWith('200')) updated++;
        else failed++;
      }
    }
    return { created, updated, failed };
  };
}

function accountStore(admin: Admin): DemoAccountStore {
  return {
    userExists: async (username) => (await admin.users.findByUsername(username)) !== undefined,
    async addUser(input) {
      await admin.users.add(input);
    },
    findClientsByLaunchUri: async (launchUri) =>
      (await admin.clients.list()).filter((c) => c.launchUri === launchUri).map((c) => c.clientId),
    async addPublicClient(input) {
      const { clientId } = await admin.addClient({ ...input, authMethod: 'none' });
      return { clientId };
    },
  };
}

/** `npm run demo`: seeds patients, accounts and the sample app (idempotently), audited. */
export async function seedDemoData(
  config: Config,
  store: StoreEndpoint,
  admin: Admin,
  audit: AuditTrail,
  log: Logger,
  patients: number,
): Promise<SeedResult> {
  const result = await seedDemo({
    publicUrl: config.publicUrl,
    patients,
    importBundles: storeImporter(store, log),
    accounts: accountStore(admin),
    print: (line) => {
      process.stdout.write(`${line}\n`);
    },
  });
  await audit.record(
    adminAuditEvent({
      activity: 'demo-seed',
      action: 'C',
      success: result.imported.failed === 0,
      site: config.fhirBaseUrl,
      actor: 'npm run demo',
      detail: `${result.imported.created} created, ${result.imported.updated} updated, ${result.imported.failed} failed`,
    }),
  );
  return result;
}

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AuditEvent } from '@medplum/fhirtypes';
import pg from 'pg';
import { openAuditStore } from '../../gateway/audit/open-audit-store.js';
import { auditPgTarget } from '../../gateway/audit/postgres-target.js';
import { freshSchema, TEST_POSTGRES_URL } from '../support/postgres.js';
import { tempDir } from './support/temp.js';
import { testKeys } from './support/tokens.js';

function get(port: number, token: string, id: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/fhir/Patient/123',
        headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode);
        });
        res.on('error', () => {
          resolve(undefined);
        });
      },
    );
    req.on('error', () => {
      resolve(undefined);
    });
  });
}

/** The request ids (role 20 entity) of every record in the trail. */
async function recordedIds(dir: string, storeUrl: string | undefined): Promise<Set<string>> {
  const store = openAuditStore({ dataDir: dir, sync: 'full', storeUrl, readonly: true });
  const ids = new Set<string>();
  try {
    for (let after = 0; ;) {
      const rows = await store.records(after, 1000);
      for (const row of rows) {
        for (const e of (JSON.parse(row.event) as AuditEvent).entity ?? []) {
          const id = e.what?.identifier?.value;
          if (e.role?.code === '20' && id !== undefined) ids.add(id);
        }
      }
      const last = rows.at(-1);
      if (last === undefined) break;
      after = last.seq;
    }
  } finally {
    await store.close();
  }
  return ids;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`gateway audit durability (${engine})`, () => {
    it('has an AuditEvent for every 2xx answered before a kill -9', async function () {
      this.timeout(60_000);
      const t = tempDir();
      const schema = engine === 'postgres' ? freshSchema() : undefined;
      const keys = await testKeys();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/gateway/support/kill9-server.ts'],
        {
          env: {
            ...process.env,
            TEST_DIR: t.dir,
            TEST_JWK: JSON.stringify(keys.publicJwk),
            TEST_STORE_URL: schema?.url ?? '',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        const port = await new Promise<number>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            const m = /PORT (\d+)/.exec(d.toString());
            if (m !== null) resolve(Number(m[1]));
          });
          child.once('exit', () => {
            reject(new Error('server exited'));
          });
        });
        const token = await keys.mint({
          sub: 'u',
          scope: 'patient/*.rs',
          patient: '123',
          roles: ['fhir-data-reader'],
        });
        const ok: string[] = [];
        let n = 0;
        let killed = false;
        const worker = async (): Promise<void> => {
          while (!killed && n < 2000) {
            const id = `k9-${n++}`;
            const status = await get(port, token, id);
            if (status !== undefined && status >= 200 && status < 300) ok.push(id);
            if (ok.length >= 150) {
              killed = true;
              child.kill('SIGKILL');
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(ok.length >= 150);
        const recorded = await recordedIds(t.dir, schema?.url);
        const missing = ok.filter((id) => !recorded.has(id));
        assert.deepEqual(missing, []);
      } finally {
        child.kill('SIGKILL');
        t.cleanup();
        if (schema !== undefined) {
          const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
          await c.connect();
          await c.query(`DROP SCHEMA IF EXISTS "${auditPgTarget(schema.url).schema}" CASCADE`);
          await c.end();
          await schema.drop();
        }
      }
    });
  });
}

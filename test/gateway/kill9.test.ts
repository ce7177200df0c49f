import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { openAuditDb } from '../../gateway/audit/audit-db.js';
import { AUDIT_DB_FILE } from '../../gateway/audit/trail.js';
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

describe('gateway audit durability', () => {
  it('has an AuditEvent for every 2xx answered before a kill -9', async function () {
    this.timeout(60_000);
    const t = tempDir();
    const keys = await testKeys();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/gateway/support/kill9-server.ts'],
      {
        env: { ...process.env, TEST_DIR: t.dir, TEST_JWK: JSON.stringify(keys.publicJwk) },
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
      const db = openAuditDb(path.join(t.dir, AUDIT_DB_FILE), 'full', true);
      const recorded = new Set(
        db
          .prepare<[], { value: string }>(
            "SELECT json_extract(e.value, '$.what.identifier.value') AS value FROM audit_record, json_each(audit_record.event, '$.entity') AS e WHERE json_extract(e.value, '$.role.code') = '20'",
          )
          .all()
          .map((r) => r.value),
      );
      db.close();
      const missing = ok.filter((id) => !recorded.has(id));
      assert.deepEqual(missing, []);
    } finally {
      child.kill('SIGKILL');
      t.cleanup();
    }
  });
});

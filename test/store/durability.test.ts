import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StartedChild } from '../../common/child-process.js';
import { overSocket, startStore, stopProcess } from './process.js';

describe('store process: durability', function () {
  this.timeout(300_000);
  let dir: string;
  let child: StartedChild | undefined;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-durable-'));
  });
  after(async () => {
    if (child !== undefined) await stopProcess(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write after kill -9 during concurrent writes, passes integrity_check, restarts on a Unix socket and stops on SIGTERM', async () => {
    child = await startStore(dir);
    const base = child.ready.address ?? '';
    const acked = new Map<string, number>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < 2000; i++) {
        const id = `w${w}-${i % 7}`;
        try {
          const res = await fetch(`${base}/Patient/${id}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
            body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: `v${i}` }] }),
          });
          if (res.status === 200 || res.status === 201) {
            acked.set(id, Number((res.headers.get('etag') ?? '').replace(/\D/g, '')));
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    for (let waited = 0; acked.size < 40 && waited < 20_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopProcess(child, 'SIGKILL');
    stop = true;
    await Promise.all(writers);
    child = undefined;
    assert.ok(acked.size >= 40, `only ${acked.size} writes acknowledged`);

    const db = new Database(path.join(dir, 'fhir.db'));
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const get = db.prepare<[string], { version: number }>(
        "SELECT version FROM resource WHERE type = 'Patient' AND id = ?",
      );
      for (const [id, version] of acked) {
        const row = get.get(id);
        assert.ok(row !== undefined, `${id} lost`);
        assert.ok(
          row.version >= version,
          `${id}: version ${row.version} < acknowledged ${version}`,
        );
      }
    } finally {
      db.close();
    }

    const socket = path.join(dir, 'store.sock');
    child = await startStore(dir, {
      HEARTH_STORE_SOCKET: socket,
      HEARTH_FHIR_BASE_URL: 'https://public.example/fhir',
    });
    assert.equal(child.ready.address, socket);
    const health = await overSocket(socket, 'GET', '/health');
    assert.deepEqual([health.status, health.body], [200, '{"status":"ok"}']);
    const [someId] = [...acked.keys()];
    assert.equal((await overSocket(socket, 'GET', `/Patient/${someId}`)).status, 200);
    const created = await overSocket(socket, 'POST', '/Patient', '{"resourceType":"Patient"}');
    assert.equal(created.status, 201);
    assert.match(
      String(created.headers.location),
      /^https:\/\/public\.example\/fhir\/Patient\/[0-9a-f-]+\/_history\/1$/,
    );
    assert.equal(await stopProcess(child, 'SIGTERM'), 0);
    child = undefined;
  });
});

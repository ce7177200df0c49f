import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StartedChild } from '../../common/child-process.js';
import { overSocket, startStore, stopProcess, writeUntilKilled } from './process.js';

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
    const acked = await writeUntilKilled(child, { writers: 16, idsPerWriter: 7, atLeast: 40 });
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

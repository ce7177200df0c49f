import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StartedChild } from '../../../common/child-process.js';
import { openPostgresEngine } from '../../../store/engines/postgres/index.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';
import { startStore, stopProcess } from '../process.js';

describe('store process on STORE_URL=postgres://…', function () {
  this.timeout(90_000);
  let dir: string;
  let target: TestSchema;
  let child: StartedChild | undefined;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-pg-process-'));
    target = freshSchema();
  });
  after(async () => {
    if (child !== undefined) await stopProcess(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await target.drop();
  });

  it('keeps every acknowledged write after kill -9, on its schema, with nothing on the local disk', async () => {
    child = await startStore(dir, { STORE_URL: target.url });
    const base = child.ready.address ?? '';
    const acked = new Map<string, number>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < 2000; i++) {
        const id = `w${w}-${i % 5}`;
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
          // the process was killed mid-request
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    for (let waited = 0; acked.size < 30 && waited < 20_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopProcess(child, 'SIGKILL');
    stop = true;
    await Promise.all(writers);
    child = undefined;
    assert.ok(acked.size >= 30, `only ${acked.size} writes acknowledged`);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('fhir.db')),
      [],
    );

    const engine = openPostgresEngine({ url: target.url });
    try {
      for (const [id, version] of acked) {
        const row = await engine.get<{ version: number }>(
          "SELECT version FROM resource WHERE type = 'Patient' AND id = ?",
          [id],
        );
        assert.ok(row !== undefined, `${id} lost`);
        assert.ok(row.version >= version, `${id}: version ${row.version} < acked ${version}`);
      }
    } finally {
      await engine.close();
    }

    child = await startStore(dir, { STORE_URL: target.url });
    const [someId] = [...acked.keys()];
    const read = await fetch(`${child.ready.address ?? ''}/Patient/${someId ?? ''}`);
    assert.equal(read.status, 200);
    assert.equal(await stopProcess(child, 'SIGTERM'), 0);
    child = undefined;
  });
});

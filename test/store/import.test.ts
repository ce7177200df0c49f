import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StartedChild } from '../../common/child-process.js';
import { importFiles } from '../../store/cli/import-files.js';
import { testStore, type TestStore } from './helpers.js';
import { startStore, stopProcess } from './process.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/store/${name}`, import.meta.url));
const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

describe('hearth import', function () {
  this.timeout(240_000);
  let t: TestStore;
  let dir: string;
  before(async () => {
    t = await testStore();
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-import-'));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('upserts NDJSON keeping ids, reports a bad line by number and carries on', async () => {
    const file = path.join(dir, 'a.ndjson');
    writeFileSync(
      file,
      [
        '{"resourceType":"Patient","id":"nd-1","name":[{"family":"One"}]}',
        '',
        '{"resourceType":"Patient","id":"nd-2",',
        '{"resourceType":"Observation","id":"nd-obs","status":"final","code":{"text":"x"},"valueQuantity":{"value":0.010}}',
        '{"resourceType":"Patient","id":"nd-1","name":[{"family":"One, again"}]}',
        '{"resourceType":"Patient","id":"nd-3","gender":"robot"}',
      ].join('\n'),
    );
    const errors: string[] = [];
    const summary = await importFiles(t.store, [file], { onError: (where) => errors.push(where) });
    assert.deepEqual(summary, { created: 2, updated: 1, failed: 2 });
    assert.deepEqual(errors, [`${file}:3`, `${file}:6`]);
    const p = await t.api.get('/Patient/nd-1');
    assert.equal(p.body.name[0].family, 'One, again');
    assert.equal(p.body.meta.versionId, '2');
    const o = await t.api.get('/Observation/nd-obs');
    assert.ok(o.text.includes('"value":0.010'));
  });

  it('upserts a collection Bundle entry by entry, keeping ids and exact decimals', async () => {
    const errors: string[] = [];
    const summary = await importFiles(t.store, [fixture('collection.json')], {
      onError: (w) => errors.push(w),
    });
    assert.deepEqual(summary, { created: 2, updated: 1, failed: 1 });
    assert.match(errors[0] ?? '', /Bundle\.entry\[3\]$/);
    assert.equal((await t.api.get('/Organization/org-1')).body.name, 'First, renamed');
    assert.ok((await t.api.get('/Organization/org-2')).text.includes('"valueDecimal":1.000'));
  });

  it('processes a transaction Bundle as the server would, resolving urn:uuid references', async () => {
    const summary = await importFiles(t.store, [fixture('transaction-urn.json')]);
    assert.deepEqual(summary, { created: 2, updated: 0, failed: 0 });
    const rows = await t.engine.all<{ json: string }>(
      "SELECT json FROM resource WHERE type = 'Observation'",
    );
    const obs = rows.map((r) => r.json).find((j) => j.includes('"weight"'));
    assert.ok(obs?.includes('"value":72.50'));
    const ref = (JSON.parse(obs ?? '{}') as { subject: { reference: string } }).subject.reference;
    assert.match(ref, /^Patient\/[0-9a-f-]{36}$/);
    assert.equal((await t.api.get(`/${ref}`)).status, 200);
  });

  it('streams a large NDJSON file through the write path', async () => {
    const file = path.join(dir, 'big.ndjson');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ resourceType: 'Patient', id: `big-${i}`, active: i % 2 === 0 }),
    );
    writeFileSync(file, lines.join('\n'));
    let bytes = 0;
    const summary = await importFiles(t.store, [file], { onBytes: (n) => (bytes += n) });
    assert.deepEqual(summary, { created: 3000, updated: 0, failed: 0 });
    assert.equal(bytes, lines.join('\n').length);
    const h = await t.api.get('/Patient/big-2999/_history');
    assert.equal(h.body.entry.length, 1);
  });

  describe('while the server runs', () => {
    let child: StartedChild | undefined;
    let dataDir: string;
    before(() => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'hearth-import-live-'));
    });
    after(async () => {
      if (child !== undefined) await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('writes through the CLI process while the store serves, and the server sees it at once', async () => {
      child = await startStore(dataDir);
      const base = child.ready.address ?? '';
      const put = await fetch(`${base}/Patient/live-1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', id: 'live-1', active: true }),
      });
      assert.equal(put.status, 201);
      assert.equal(
        ((await (await fetch(`${base}/Patient/live-1`)).json()) as { active: boolean }).active,
        true,
      );
      const file = path.join(dataDir, 'live.ndjson');
      writeFileSync(
        file,
        `${JSON.stringify({ resourceType: 'Patient', id: 'live-1', active: false })}\n${JSON.stringify({ resourceType: 'Patient', id: 'live-2' })}\n`,
      );
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', CLI, 'import', file, '--json'],
        {
          env: { ...process.env, DATA_DIR: dataDir, STORE_URL: '', LOG_LEVEL: 'silent' },
        },
      );
      assert.deepEqual(JSON.parse(stdout), { created: 1, updated: 1, failed: 0 });
      const after = (await (await fetch(`${base}/Patient/live-1`)).json()) as {
        active: boolean;
        meta: { versionId: string };
      };
      assert.equal(after.active, false);
      assert.equal(after.meta.versionId, '2');
      assert.equal((await fetch(`${base}/Patient/live-2`)).status, 200);
    });
  });
});

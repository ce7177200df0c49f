import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importFiles } from '../../../store/cli/import-files.js';
import { testEngines } from '../../support/engines.js';
import { testStore, type TestStore } from '../helpers.js';

describe('hearth import on PostgreSQL (concurrent transactions)', function () {
  this.timeout(30_000);
  let t: TestStore;
  let dir: string;
  before(async () => {
    const postgres = testEngines.find((e) => e.name === 'postgres');
    assert.ok(postgres !== undefined);
    t = await testStore({}, {}, postgres);
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-pg-import-'));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies consecutive lines for one id in file order although lines run concurrently', async () => {
    const file = path.join(dir, 'order.ndjson');
    const lines: string[] = [];
    for (let n = 0; n < 20; n += 1) {
      for (let v = 1; v <= 3; v += 1) {
        lines.push(
          JSON.stringify({ resourceType: 'Patient', id: `same-${n}`, birthDate: `200${v}` }),
        );
      }
    }
    writeFileSync(file, lines.join('\n'));
    const summary = await importFiles(t.store, [file]);
    assert.deepEqual(summary, { created: 20, updated: 40, failed: 0 });
    for (let n = 0; n < 20; n += 1) {
      const read = await t.api.get(`/Patient/same-${n}`);
      assert.deepEqual([read.body.birthDate, read.body.meta.versionId], ['2003', '3']);
    }
  });
});

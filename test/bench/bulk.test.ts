import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measureBulk, type BulkHearth } from '../../bench/bulk.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * The bench's Bulk Data hook against two real Hearths: the counts it reports are the data set's,
 * InitialLoad fills the empty one, IncrementalLoad goes back into the source. Rates are only
 * checked to be measured, never against a target.
 */
describe('bench/bulk.ts measureBulk', function () {
  this.timeout(300_000);
  const dirs: string[] = [];
  let source: RunningHearth;
  let target: RunningHearth;
  let src: BulkHearth;
  let dst: BulkHearth;

  async function bulkHearth(h: RunningHearth, importDir: string): Promise<BulkHearth> {
    const c = await addBackendClient(h, 'system/*.cruds', [
      'fhir-data-exporter',
      'fhir-data-importer',
    ]);
    return { fhirBase: h.fhirBase, token: () => c.token(h), importDir };
  }

  before(async () => {
    for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(path.join(os.tmpdir(), 'hearth-bb-')));
    const [a = '', b = ''] = dirs;
    source = await startHearth({ args: ['--demo', '1'], env: { IMPORT_DIR: a } });
    target = await startHearth({ env: { IMPORT_DIR: b } });
    src = await bulkHearth(source, a);
    dst = await bulkHearth(target, b);
  });
  after(async () => {
    await Promise.all([source.stop(), target.stop()]);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function total(h: BulkHearth, type: string): Promise<number> {
    const res = await fetch(`${h.fhirBase}/${type}?_summary=count`, {
      headers: { authorization: `Bearer ${await h.token()}` },
    });
    return ((await res.json()) as { total: number }).total;
  }

  it('reports export and InitialLoad rates over the whole data set', async () => {
    const r = await measureBulk({ source: src, importInto: dst });
    assert.ok(r.export.resources > 100, `${r.export.resources} resources exported`);
    assert.ok(r.export.files > 0);
    assert.equal(r.import.mode, 'InitialLoad');
    assert.equal(r.import.resources, r.export.resources);
    assert.equal(r.import.errors, 0);
    for (const x of [r.export, r.import]) {
      assert.ok(x.seconds > 0 && x.perSecond > 0);
      assert.ok(Math.abs(x.perSecond - x.resources / x.seconds) < 1e-6);
    }
    assert.equal(await total(dst, 'Observation'), await total(src, 'Observation'));
  });

  it('reports an IncrementalLoad rate back into the source when no empty Hearth is given', async () => {
    const r = await measureBulk({ source: src });
    assert.equal(r.import.mode, 'IncrementalLoad');
    assert.equal(r.import.resources, r.export.resources);
    assert.equal(r.import.errors, 0);
  });
});

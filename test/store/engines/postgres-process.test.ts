import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StartedChild } from '../../../common/child-process.js';
import { openPostgresEngine } from '../../../store/engines/postgres/index.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';
import { startStore, stopProcess, writeUntilKilled } from '../process.js';

const CLI = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

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
    const acked = await writeUntilKilled(child, { writers: 8, idsPerWriter: 5, atLeast: 30 });
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

  it('sees at once what `hearth import` writes from another process to the same database', async () => {
    child = await startStore(dir, { STORE_URL: target.url });
    const base = child.ready.address ?? '';
    const put = await fetch(`${base}/Patient/cli-0`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: 'cli-0' }),
    });
    assert.equal(put.status, 201);
    const file = path.join(dir, 'live.ndjson');
    writeFileSync(
      file,
      `${JSON.stringify({ resourceType: 'Patient', id: 'cli-1', active: true })}\n${JSON.stringify({ resourceType: 'Patient', id: 'cli-0', active: false })}\n`,
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, 'import', file, '--json'],
      { env: { ...process.env, DATA_DIR: dir, STORE_URL: target.url, LOG_LEVEL: 'silent' } },
    );
    assert.deepEqual(JSON.parse(stdout), { created: 1, updated: 1, failed: 0 });
    const read = (await (await fetch(`${base}/Patient/cli-1`)).json()) as { active: boolean };
    assert.equal(read.active, true);
    const updated = (await (await fetch(`${base}/Patient/cli-0`)).json()) as {
      meta: { versionId: string };
    };
    assert.equal(updated.meta.versionId, '2');
  });
});

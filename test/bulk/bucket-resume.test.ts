import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../common/config.js';
import { lazyBucket } from '../../gateway/bulk/bucket.js';
import { runExport } from '../../gateway/bulk/export-runner.js';
import type { ExportJob } from '../../gateway/bulk/job.js';
import { bucketTarget } from '../../gateway/bulk/part-target.js';
import type { BulkSource } from '../../gateway/bulk/source.js';
import { exportLines, openEngine, type Engine } from '../../store/server.js';
import { runCli } from '../support/hearth.js';
import { startS3, type S3Server } from '../support/s3-server.js';

/**
 * An export into a bucket stopped mid-part (the multipart upload abandoned) and resumed from its
 * last checkpoint: the open part is redone from where it began, so every object holds each resource
 * exactly once. Real store (SQLite, loaded by `hearth import`), real S3 server.
 */

const TOTAL = 250;

describe('bucket export resumes at the start of the open part', function () {
  this.timeout(180_000);
  let dir: string;
  let s3: S3Server;
  let engine: Engine;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-bucket-resume-'));
    s3 = await startS3();
    env = { DATA_DIR: path.join(dir, 'data'), ...s3.env('resume/') };
    const lines = Array.from({ length: TOTAL }, (_, i) =>
      JSON.stringify({ resourceType: 'Patient', id: `p${i}`, name: [{ text: 'x'.repeat(3000) }] }),
    );
    await writeFile(path.join(dir, 'p.ndjson'), `${lines.join('\n')}\n`);
    const r = await runCli(['import', path.join(dir, 'p.ndjson'), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    engine = openEngine(loadConfig(env));
  });
  after(async () => {
    await engine.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('redoes the interrupted part and ends with every resource once', async () => {
    const config = loadConfig(env);
    assert.ok(config.exportS3 !== undefined);
    const bucket = lazyBucket(config.exportS3);
    const jobDir = path.join(dir, 'job');
    await mkdir(jobDir);
    const source: BulkSource = {
      exportLines: (q) => exportLines(engine, q),
      importBatch: () => Promise.reject(new Error('not used')),
      readGroup: () => Promise.resolve(undefined),
    };
    const now = Date.now();
    const job: ExportJob = {
      id: '00000000-0000-4000-8000-000000000001',
      owner: 'test',
      kind: 'export',
      status: 'in-progress',
      request: 'test',
      transactionTime: new Date(now).toISOString(),
      createdAt: new Date(now).toISOString(),
      output: [],
      error: [],
      params: {
        level: 'system',
        types: ['Patient'],
        until: now,
        typeFilters: {},
        scopeFilters: {},
        elements: {},
      },
      cursor: { typeIndex: 0, afterRid: 0, part: 1, partCount: 0, partBytes: 0 },
      resources: 0,
    };
    const base = {
      dir: jobDir,
      target: bucketTarget(bucket, job.id),
      source,
      maxPerFile: 200,
      maxRate: 0,
    };
    // First run: stopped right after a mid-part checkpoint of the first part.
    let saved = '';
    const ac = new AbortController();
    await assert.rejects(
      runExport(structuredClone(job), {
        ...base,
        signal: ac.signal,
        save: (j) => {
          saved = JSON.stringify(j);
          if (j.cursor.partBytes > 0 && j.cursor.partCount >= 150) ac.abort('stop');
          return Promise.resolve();
        },
      }),
    );
    const stopped = JSON.parse(saved) as ExportJob;
    assert.ok(stopped.cursor.partCount >= 150 && stopped.cursor.part === 1, saved.slice(0, 300));
    assert.deepEqual(await s3.list('resume/'), [], 'the abandoned upload left no object');

    // Resumed run from what was persisted.
    await runExport(stopped, {
      ...base,
      signal: new AbortController().signal,
      save: () => Promise.resolve(),
    });
    assert.equal(stopped.resources, TOTAL);
    assert.deepEqual(
      stopped.output.map((o) => [o.file, o.count, o.key]),
      [
        ['Patient-1.ndjson', 200, `resume/${job.id}/Patient-1.ndjson`],
        ['Patient-2.ndjson', 50, `resume/${job.id}/Patient-2.ndjson`],
      ],
    );
    const ids: string[] = [];
    for (const o of stopped.output) {
      const res = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: o.key }));
      const text = (await res.Body?.transformToString()) ?? '';
      const lines = text.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, o.count);
      for (const l of lines) ids.push((JSON.parse(l) as { id: string }).id);
    }
    assert.equal(new Set(ids).size, TOTAL, 'each resource exactly once');
  });
});

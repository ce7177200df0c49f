import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { addBackendClient, type BackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { startS3, type S3Server } from '../support/s3-server.js';

/**
 * Bulk Data with an S3-compatible bucket (a real S3 protocol server, s3rver): export parts are
 * streamed to the bucket (multipart once a part passes 5 MiB), downloaded through Hearth with the
 * token and byte ranges, imported back from `s3://` URLs, and deleted on cancel and on expiry.
 */

interface Manifest {
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

const PREFIX = 'hearth/';
const BIG = 3000;

function observation(i: number): string {
  return JSON.stringify({
    resourceType: 'Observation',
    id: `big-${i}`,
    status: 'final',
    code: { text: 'padding' },
    note: [{ text: `${i} ${'x'.repeat(2200)}` }],
  });
}

describe('Bulk Data with an S3-compatible bucket (s3rver)', function () {
  this.timeout(300_000);
  let s3: S3Server;
  let hearth: RunningHearth;
  let client: BackendClient;
  let token: string;
  let dataDir: string;

  const auth = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    accept: 'application/fhir+json',
    ...extra,
  });
  const url = (u: string) => (u.startsWith('http') ? u : `${hearth.fhirBase}/${u}`);

  async function kickoff(u: string, init: RequestInit = {}): Promise<Response> {
    return fetch(url(u), {
      ...init,
      headers: auth({ prefer: 'respond-async', 'content-type': 'application/fhir+json' }),
    });
  }

  async function finished(statusUrl: string): Promise<Manifest> {
    for (let i = 0; i < 1200; i++) {
      const res = await fetch(statusUrl, { headers: auth() });
      if (res.status === 200) return (await res.json()) as Manifest;
      assert.equal(res.status, 202, await res.text());
      await sleep(100);
    }
    throw new Error('the job did not finish');
  }

  const jobIdOf = (statusUrl: string) => statusUrl.split('/').at(-1) ?? '';

  async function importFromBucket(keys: string[]): Promise<Response> {
    return kickoff('$import', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
          { name: 'mode', valueString: 'IncrementalLoad' },
          ...keys.map((k) => ({
            name: 'input',
            part: [
              { name: 'type', valueString: 'Observation' },
              { name: 'url', valueUri: k },
            ],
          })),
        ],
      }),
    });
  }

  before(async () => {
    s3 = await startS3();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-bulk-s3-'));
    hearth = await startHearth({
      args: ['--demo', '2'],
      env: { ...s3.env(PREFIX), DATA_DIR: dataDir },
    });
    client = await addBackendClient(hearth, 'system/*.cruds', [
      'fhir-data-exporter',
      'fhir-data-importer',
    ]);
    token = await client.token(hearth);
  });
  after(async () => {
    await hearth.stop();
    await s3.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  let bigStatus = '';
  let bigManifest: Manifest;

  it('imports NDJSON from an s3:// object of the configured bucket', async () => {
    const lines = Array.from({ length: BIG }, (_, i) => observation(i));
    await s3.put('incoming/big.ndjson', `${lines.join('\n')}\n`);
    const res = await importFromBucket([`s3://${s3.bucket}/incoming/big.ndjson`]);
    assert.equal(res.status, 202, await res.text());
    const m = await finished(res.headers.get('content-location') ?? '');
    assert.equal(
      m.output.reduce((n, o) => n + o.count, 0),
      BIG,
    );
    assert.deepEqual(m.error, []);
    const read = await fetch(url('Observation/big-2345'), { headers: auth() });
    assert.equal(read.status, 200);
    assert.match(await read.text(), /"2345 x{2200}"/);
  });

  it('refuses s3:// inputs of another bucket and missing objects (400 OperationOutcome)', async () => {
    for (const u of ['s3://someone-else/x.ndjson', `s3://${s3.bucket}/incoming/missing.ndjson`]) {
      const res = await importFromBucket([u]);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { resourceType: string };
      assert.equal(body.resourceType, 'OperationOutcome');
    }
  });

  it('streams the export parts into the bucket (multipart past 5 MiB) and lists Hearth URLs in the manifest', async () => {
    const res = await kickoff('$export?_type=Observation,Patient');
    assert.equal(res.status, 202, await res.text());
    bigStatus = res.headers.get('content-location') ?? '';
    bigManifest = await finished(bigStatus);
    const id = jobIdOf(bigStatus);
    const objects = await s3.list(`${PREFIX}${id}/`);
    const names = objects.map((o) => (o.Key ?? '').slice(`${PREFIX}${id}/`.length)).sort();
    const files = bigManifest.output.map((o) => o.url.split('/').at(-1) ?? '').sort();
    assert.deepEqual(names, files);
    for (const o of bigManifest.output)
      assert.ok(o.url.startsWith(`${hearth.fhirBase}/_bulk-files/${id}/`), o.url);
    const obs = bigManifest.output.filter((o) => o.type === 'Observation');
    assert.ok(obs.reduce((n, o) => n + o.count, 0) >= BIG);
    const biggest = objects.reduce((a, b) => ((a.Size ?? 0) > (b.Size ?? 0) ? a : b));
    assert.ok((biggest.Size ?? 0) > 5 * 1024 * 1024, `a part over 5 MiB (${biggest.Size})`);
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: biggest.Key ?? '' }),
    );
    assert.equal(head.ContentType, 'application/fhir+ndjson');
    // No local copies: the job's folder holds only the job and the audit companions.
    const local = path.join(dataDir, 'bulk', id, files[0] ?? '');
    await assert.rejects(readFile(local));
    assert.ok((await readFile(`${local}.entities`, 'utf8')).length > 0, 'audit companion kept');
  });

  it('serves the bucket objects through Hearth: whole, byte ranges, and never without a token', async () => {
    for (const o of bigManifest.output) {
      const res = await fetch(o.url, { headers: auth() });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /ndjson/);
      const text = await res.text();
      assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text));
      assert.equal(text.split('\n').filter((l) => l !== '').length, o.count);
    }
    const first = bigManifest.output[0]?.url ?? '';
    const whole = Buffer.from(await (await fetch(first, { headers: auth() })).arrayBuffer());
    const ranged = await fetch(first, { headers: auth({ range: 'bytes=5-14' }) });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 5-14/${whole.length}`);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), whole.subarray(5, 15));
    const tail = await fetch(first, { headers: auth({ range: 'bytes=-7' }) });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), whole.subarray(whole.length - 7));
    const beyond = await fetch(first, { headers: auth({ range: `bytes=${whole.length}-` }) });
    assert.equal(beyond.status, 416);
    assert.equal((await fetch(first)).status, 401);
  });

  it('deletes the bucket objects when the client cancels (DELETE) the job', async () => {
    const res = await kickoff('$export?_type=Patient');
    const status = res.headers.get('content-location') ?? '';
    await finished(status);
    const id = jobIdOf(status);
    assert.ok((await s3.list(`${PREFIX}${id}/`)).length > 0);
    const del = await fetch(status, { method: 'DELETE', headers: auth() });
    assert.equal(del.status, 202);
    assert.deepEqual(await s3.list(`${PREFIX}${id}/`), []);
    assert.equal((await fetch(status, { headers: auth() })).status, 404);
  });

  it('deletes the bucket objects when the job expires (sweep at start-up)', async () => {
    const id = jobIdOf(bigStatus);
    assert.ok((await s3.list(`${PREFIX}${id}/`)).length > 0);
    await hearth.stop();
    const jobFile = path.join(dataDir, 'bulk', id, 'job.json');
    const job = JSON.parse(await readFile(jobFile, 'utf8')) as { expiresAt: string };
    job.expiresAt = new Date(Date.now() - 1000).toISOString();
    await writeFile(jobFile, JSON.stringify(job));
    const kept = Object.fromEntries(
      Object.entries(hearth.env).filter(([k]) => k !== 'PORT' && k !== 'PUBLIC_URL'),
    );
    hearth = await startHearth({ env: kept });
    token = await client.token(hearth);
    for (let i = 0; i < 100 && (await s3.list(`${PREFIX}${id}/`)).length > 0; i++) await sleep(100);
    assert.deepEqual(await s3.list(`${PREFIX}${id}/`), []);
    const status = bigStatus.replace(/^https?:\/\/[^/]+/, hearth.baseUrl);
    assert.equal((await fetch(status, { headers: auth() })).status, 404);
  });
});

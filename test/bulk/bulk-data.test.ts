import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { addBackendClient, type BackendClient } from '../support/backend-client.js';

/**
 * Bulk Data through the real HTTP path of the whole of Hearth (npm start): the demo data set is
 * exported with `$export`, re-imported with `$import` into an empty Hearth, and ends identical;
 * an export stopped midway resumes after a restart; jobs are private to their client.
 */

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number; inputUrl?: string }[];
  error: { type: string; url: string; count: number }[];
}

const EXPORTER = ['system/*.rs', ['fhir-data-exporter']] as const;

describe('Bulk Data $export and $import (whole system)', function () {
  this.timeout(300_000);
  let source: RunningHearth;
  let target: RunningHearth;
  let importDir: string;
  let targetData: string;
  let exporter: BackendClient;
  let exporterToken: string;

  const get = (
    h: RunningHearth,
    token: string,
    url: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(url.startsWith('http') ? url : `${h.fhirBase}/${url}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...headers },
    });

  async function kickoff(h: RunningHearth, token: string, url: string, init: RequestInit = {}) {
    const res = await fetch(`${h.fhirBase}/${url}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/fhir+json',
        prefer: 'respond-async',
        'content-type': 'application/fhir+json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
    return res;
  }

  async function waitFor(h: RunningHearth, token: string, status: string): Promise<Manifest> {
    for (let i = 0; i < 600; i++) {
      const res = await get(h, token, status);
      if (res.status === 200) return (await res.json()) as Manifest;
      assert.equal(res.status, 202, await res.text());
      assert.ok(res.headers.get('x-progress'));
      assert.ok(res.headers.get('retry-after'));
      await sleep(100);
    }
    throw new Error('the job did not finish');
  }

  async function download(h: RunningHearth, token: string, m: Manifest): Promise<string[]> {
    const lines: string[] = [];
    for (const o of m.output) {
      const res = await get(h, token, o.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /ndjson/);
      const part = (await res.text()).split('\n').filter((l) => l !== '');
      assert.equal(part.length, o.count);
      lines.push(...part);
    }
    return lines;
  }

  async function exportAll(
    h: RunningHearth,
    token: string,
  ): Promise<{ m: Manifest; lines: string[] }> {
    const res = await kickoff(h, token, '$export?_outputFormat=application%2Ffhir%2Bndjson');
    assert.equal(res.status, 202, await res.text());
    const status = res.headers.get('content-location') ?? '';
    const m = await waitFor(h, token, status);
    return { m, lines: await download(h, token, m) };
  }

  before(async () => {
    importDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-import-'));
    targetData = await mkdtemp(path.join(os.tmpdir(), 'hearth-bulk-target-'));
    const env = { EXPORT_FILE_MAX_RESOURCES: '60' };
    source = await startHearth({ args: ['--demo', '3'], env });
    target = await startHearth({
      env: { ...env, DATA_DIR: targetData, IMPORT_DIR: importDir, EXPORT_MAX_RATE: '80' },
    });
    exporter = await addBackendClient(source, EXPORTER[0], [...EXPORTER[1]]);
    exporterToken = await exporter.token(source);
    const writer = await addBackendClient(source, 'system/*.cruds', ['fhir-data-contributor']);
    const res = await fetch(`${source.fhirBase}/Observation/precise-1`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await writer.token(source)}`,
        'content-type': 'application/fhir+json',
      },
      body: '{"resourceType":"Observation","id":"precise-1","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"}}',
    });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await Promise.all([source.stop(), target.stop()]);
    await rm(importDir, { recursive: true, force: true });
    await rm(targetData, { recursive: true, force: true });
  });

  let exported: { m: Manifest; lines: string[] };

  it('exports the whole data set asynchronously, split by type and size, with a manifest', async () => {
    exported = await exportAll(source, exporterToken);
    const { m, lines } = exported;
    assert.equal(m.requiresAccessToken, true);
    assert.ok(Date.parse(m.transactionTime) > 0);
    assert.match(m.request, /\$export/);
    assert.deepEqual(m.error, []);
    const types = new Set(m.output.map((o) => o.type));
    assert.ok(types.has('Patient') && types.has('Observation'));
    assert.ok(m.output.every((o) => o.count <= 60));
    assert.ok(m.output.filter((o) => o.type === 'Observation').length > 1, 'Observation split');
    const patients = lines.filter((l) => l.startsWith('{"resourceType":"Patient"'));
    assert.equal(patients.length, 3);
    assert.ok(
      lines.some((l) => l.includes('"value":1.50')),
      'decimal text kept',
    );
  });

  it('serves byte ranges of an output file and refuses a download without a token', async () => {
    const url = exported.m.output[0]?.url ?? '';
    const ranged = await get(source, exporterToken, url, { range: 'bytes=0-9' });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.text()).length, 10);
    assert.match(ranged.headers.get('content-range') ?? '', /^bytes 0-9\/\d+$/);
    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401);
  });

  it('hides a job from another client (404 on status and download)', async () => {
    const other = await addBackendClient(source, EXPORTER[0], [...EXPORTER[1]]);
    const token = await other.token(source);
    const res = await kickoff(source, exporterToken, 'Patient/$export?_type=Patient');
    const status = res.headers.get('content-location') ?? '';
    assert.equal((await get(source, token, status)).status, 404);
    assert.equal((await get(source, token, exported.m.output[0]?.url ?? '')).status, 404);
    await waitFor(source, exporterToken, status);
  });

  it('refuses export without Prefer: respond-async, without the exporter role, and for unknown types', async () => {
    const noPrefer = await get(source, exporterToken, '$export');
    assert.equal(noPrefer.status, 400);
    const reader = await addBackendClient(source, 'system/*.rs', ['fhir-data-reader']);
    assert.equal((await kickoff(source, await reader.token(source), '$export')).status, 403);
    const badType = await kickoff(source, exporterToken, '$export?_type=Nonsense');
    assert.equal(badType.status, 400);
    const badFormat = await kickoff(source, exporterToken, '$export?_outputFormat=text/csv');
    assert.equal(badFormat.status, 400);
  });

  it('limits an export to the types its scopes allow and applies _typeFilter and _elements', async () => {
    const narrow = await addBackendClient(source, 'system/Patient.rs', ['fhir-data-exporter']);
    const token = await narrow.token(source);
    assert.equal((await kickoff(source, token, '$export?_type=Observation')).status, 403);
    const res = await kickoff(source, token, '$export?_elements=birthDate');
    const m = await waitFor(source, token, res.headers.get('content-location') ?? '');
    assert.deepEqual([...new Set(m.output.map((o) => o.type))], ['Patient']);
    const lines = await download(source, token, m);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(first.name, undefined);
    assert.ok(typeof first.birthDate === 'string');
    const filtered = await kickoff(
      source,
      exporterToken,
      '$export?_type=Observation&_typeFilter=Observation%3Fstatus%3Dfinal',
    );
    const fm = await waitFor(source, exporterToken, filtered.headers.get('content-location') ?? '');
    for (const l of await download(source, exporterToken, fm)) assert.match(l, /"status":"final"/);
  });

  it('exports a Group of patients: only their compartments', async () => {
    const patientId = (
      JSON.parse(exported.lines.find((l) => l.startsWith('{"resourceType":"Patient"')) ?? '{}') as {
        id: string;
      }
    ).id;
    const writer = await addBackendClient(source, 'system/*.cruds', ['fhir-data-contributor']);
    const put = await fetch(`${source.fhirBase}/Group/g1`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await writer.token(source)}`,
        'content-type': 'application/fhir+json',
      },
      body: JSON.stringify({
        resourceType: 'Group',
        id: 'g1',
        type: 'person',
        actual: true,
        member: [{ entity: { reference: `Patient/${patientId}` } }],
      }),
    });
    assert.equal(put.status, 201);
    const res = await kickoff(source, exporterToken, 'Group/g1/$export');
    assert.equal(res.status, 202);
    const m = await waitFor(source, exporterToken, res.headers.get('content-location') ?? '');
    const lines = await download(source, exporterToken, m);
    assert.equal(lines.filter((l) => l.startsWith('{"resourceType":"Patient"')).length, 1);
    for (const l of lines) assert.ok(l.includes(patientId), 'in the patient compartment');
    assert.equal((await kickoff(source, exporterToken, 'Group/nope/$export')).status, 404);
  });

  it('re-imports the export into an empty Hearth with identical resources (ids, versions, content, decimals)', async () => {
    const byType = new Map<string, string[]>();
    for (const l of exported.lines) {
      const type = (JSON.parse(l) as { resourceType: string }).resourceType;
      byType.set(type, [...(byType.get(type) ?? []), l]);
    }
    const input = [];
    for (const [type, lines] of byType) {
      await writeFile(path.join(importDir, `${type}.ndjson`), `${lines.join('\n')}\n`);
      input.push({
        name: 'input',
        part: [
          { name: 'type', valueString: type },
          { name: 'url', valueUri: `${type}.ndjson` },
        ],
      });
    }
    await writeFile(
      path.join(importDir, 'bad.ndjson'),
      '{"resourceType":"Patient","id":"x","gender":"nope"}\nnot json\n',
    );
    input.push({ name: 'input', part: [{ name: 'url', valueUri: 'bad.ndjson' }] });
    const importer = await addBackendClient(target, 'system/*.cruds', [
      'fhir-data-importer',
      'fhir-data-exporter',
    ]);
    const token = await importer.token(target);
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'inputFormat', valueString: 'application/fhir+ndjson' },
        { name: 'mode', valueString: 'IncrementalLoad' },
        ...input,
      ],
    };
    const outside = await kickoff(target, token, '$import', {
      method: 'POST',
      body: JSON.stringify({
        ...body,
        parameter: [{ name: 'input', part: [{ name: 'url', valueUri: '/etc/passwd' }] }],
      }),
    });
    assert.equal(outside.status, 400);
    const res = await kickoff(target, token, '$import', {
      method: 'POST',
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 202, await res.text());
    assert.match(res.headers.get('content-location') ?? '', /_operations\/import\//);
    const m = await waitFor(target, token, res.headers.get('content-location') ?? '');
    assert.equal(
      m.output.reduce((n, o) => n + o.count, 0),
      exported.lines.length,
    );
    assert.equal(m.error.length, 1);
    const errors = (await (await get(target, token, m.error[0]?.url ?? '')).text())
      .split('\n')
      .filter((l) => l !== '');
    assert.equal(errors.length, 2);
    for (const e of errors)
      assert.equal((JSON.parse(e) as { resourceType: string }).resourceType, 'OperationOutcome');
    const again = await exportAll(target, token);
    assert.deepEqual([...again.lines].sort(), [...exported.lines].sort());
    const read = await (await get(target, token, 'Observation/precise-1')).text();
    assert.equal(read, await (await get(source, exporterToken, 'Observation/precise-1')).text());
    assert.match(read, /"value":1\.50/);
  });

  it('resumes an export stopped midway after a restart and completes it without duplicates', async () => {
    const client = await addBackendClient(target, EXPORTER[0], [...EXPORTER[1]]);
    let token = await client.token(target);
    const res = await kickoff(target, token, '$export');
    const statusPath = (res.headers.get('content-location') ?? '').replace(/^.*\/fhir\//, '');
    for (let i = 0; i < 200; i++) {
      const s = await get(target, token, statusPath);
      assert.equal(s.status, 202, 'still running when stopped');
      const done = Number(/(\d+) resources/.exec(s.headers.get('x-progress') ?? '')?.[1] ?? '0');
      if (done >= 120) break;
      await sleep(50);
    }
    await target.stop();
    const parts = await readdir(path.join(targetData, 'bulk'));
    assert.ok(parts.length > 0);
    const kept = Object.fromEntries(
      Object.entries(target.env).filter(([k]) => k !== 'PORT' && k !== 'PUBLIC_URL'),
    );
    target = await startHearth({ env: kept });
    token = await client.token(target);
    const m = await waitFor(target, token, statusPath);
    const lines = await download(target, token, m);
    assert.equal(new Set(lines).size, lines.length, 'no duplicates');
    assert.deepEqual([...lines].sort(), [...exported.lines].sort());
  });

  it('runs hearth export with the same machinery', async () => {
    const out = path.join(importDir, 'cli-out');
    const r = await source.cli(['export', '--out', out, '--type', 'Patient,Observation', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { files: string[]; resources: number };
    const expected = exported.lines.filter((l) =>
      /^\{"resourceType":"(Patient|Observation)"/.test(l),
    ).length;
    assert.equal(result.resources, expected);
    assert.ok(result.files.every((f) => f.startsWith(out) && f.endsWith('.ndjson')));
  });
});

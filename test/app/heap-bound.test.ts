import assert from 'node:assert/strict';
import { npmStart } from '../../bench/hearth-process.js';
import { loadConfig } from '../../common/config.js';
import { heapArgs } from '../../common/heap-limit.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';
import { commandLine, descendants } from '../support/processes.js';

/**
 * Hearth started as `npm start` starts it (node flags from package.json) runs every process under
 * the V8 heap bound derived from MAX_BODY_BYTES, and a body at MAX_BODY_BYTES still goes through:
 * an ordinary transaction Bundle is stored, and the costliest JSON to parse (deeply nested arrays,
 * ~29 bytes of heap per byte) is refused with an OperationOutcome, without crashing a process.
 */

const MAX_BODY_BYTES = loadConfig({}).maxBodyBytes;

/** A transaction of `n` Observations whose JSON is just under `bytes`. */
function transactionOf(bytes: number, n: number): string {
  const entry = (i: number, note: string) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    request: { method: 'POST', url: 'Observation' },
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      component: Array.from({ length: 5 }, (_, c) => ({
        code: { coding: [{ system: 'http://loinc.org', code: `8480-${c % 10}` }] },
        valueQuantity: { value: 100 + c, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org' },
      })),
      note: [{ text: note }],
    },
  });
  const entries = Array.from({ length: n }, (_, i) => entry(i, ''));
  const bare = JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  const pad = Math.floor((bytes - bare.length) / n);
  const padded = Array.from({ length: n }, (_, i) => entry(i, 'x'.repeat(pad)));
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: padded });
}

/** A transaction whose one resource carries arrays nested `depth` deep. */
function nestedArraysOf(bytes: number): string {
  const head =
    '{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Basic"},"resource":{"resourceType":"Basic","code":{"text":"x"},"x":';
  const tail = '}}]}';
  const depth = Math.floor((bytes - head.length - tail.length) / 2);
  return `${head}${'['.repeat(depth)}${']'.repeat(depth)}${tail}`;
}

describe('heap bound (npm start flags) and bodies at MAX_BODY_BYTES', function () {
  this.timeout(300_000);
  let hearth: RunningHearth;
  let token: string;
  let pids: number[];

  before(async () => {
    hearth = await startHearth({ ...npmStart() });
    const client = await addBackendClient(hearth, 'system/*.cruds', ['fhir-data-contributor']);
    token = await client.token(hearth);
    pids = [hearth.process.pid ?? 0, ...descendants(hearth.process.pid ?? 0)];
  });
  after(async () => {
    await hearth.stop();
  });

  const post = (body: string) =>
    fetch(hearth.fhirBase, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/fhir+json',
        accept: 'application/fhir+json',
      },
      body,
    });

  it('runs one process, with the bounds (old and young generation); the store is its thread', () => {
    const flags = heapArgs(MAX_BODY_BYTES);
    assert.equal(flags.length, 2);
    const node = pids.map(commandLine).filter((c) => /main\.(ts|js)/.test(c));
    assert.equal(node.length, 1, node.join('\n'));
    for (const c of node) for (const flag of flags) assert.ok(c.split(' ').includes(flag), c);
  });

  it('stores a 200-entry transaction Bundle just under MAX_BODY_BYTES', async () => {
    const body = transactionOf(MAX_BODY_BYTES - 4096, 200);
    assert.ok(Buffer.byteLength(body) > MAX_BODY_BYTES - 64 * 1024, String(body.length));
    const res = await post(body);
    const text = await res.text();
    assert.equal(res.status, 200, text.slice(0, 500));
    const out = JSON.parse(text) as { entry: { response: { status: string } }[] };
    assert.equal(out.entry.length, 200);
    assert.ok(out.entry.every((e) => e.response.status.startsWith('201')));
  });

  it('refuses the costliest JSON of MAX_BODY_BYTES with an OperationOutcome and keeps serving', async () => {
    const body = nestedArraysOf(MAX_BODY_BYTES - 1024);
    const res = await post(body);
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    const after = await fetch(`${hearth.fhirBase}/metadata`);
    assert.equal(after.status, 200);
    for (const pid of pids) assert.notEqual(commandLine(pid), '', `process ${pid} is gone`);
  });

  it('answers a body one byte over MAX_BODY_BYTES with 413', async () => {
    const res = await post(' '.repeat(MAX_BODY_BYTES + 1));
    assert.equal(res.status, 413);
  });
});

describe('heap bound following a larger MAX_BODY_BYTES', function () {
  this.timeout(120_000);

  it('relaunches Hearth with the bound the configuration needs and stops it cleanly', async () => {
    const maxBody = 16 * 1024 * 1024;
    const hearth = await startHearth({
      env: { ...npmStart().env, MAX_BODY_BYTES: String(maxBody) },
      nodeArgs: npmStart().nodeArgs,
    });
    const tree = descendants(hearth.process.pid ?? 0);
    try {
      const flags = heapArgs(maxBody);
      const withFlag = tree
        .map(commandLine)
        .filter((c) => flags.every((flag) => c.split(' ').includes(flag)));
      // The relaunched main process (the store is a thread of it, test/app/store-thread.test.ts).
      assert.equal(withFlag.length, 1, tree.map(commandLine).join('\n'));
      const res = await fetch(`${hearth.fhirBase}/metadata`);
      assert.equal(res.status, 200);
    } finally {
      await hearth.stop();
    }
    for (const pid of tree) assert.equal(commandLine(pid), '', `process ${pid} outlived stop`);
  });
});

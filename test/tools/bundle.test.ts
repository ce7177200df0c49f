import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { npmStart } from '../../bench/hearth-process.js';
import {
  VALIDATOR_READY,
  type ValidateReply,
  type ValidateRequest,
} from '../../store/bundle/validator-thread.js';
import { bundleHearth, ENTRIES } from '../../tools/bundle.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * `npm run build` bundles the files Node starts (tools/bundle.ts). These tests build the bundles
 * into dist/ as the build does, then run Hearth from `dist/main.js` with `npm start`'s flags and
 * the CLI from `bin/hearth.js`, so every bundled entry runs: the composition root, the CLI, the
 * store thread, the validator thread and the audit writer thread.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = path.join(root, 'dist');
const fhirJson = 'application/fhir+json';

describe('the bundled build (dist/bundle, run by npm start)', function () {
  this.timeout(300_000);
  let stubs: string[];
  let files: string[];
  let refused: string[];
  let hearth: RunningHearth;
  let token: string;

  before(async () => {
    ({ stubs, files, refused } = await bundleHearth(root));
    const start = npmStart();
    hearth = await startHearth({
      env: start.env,
      nodeArgs: start.nodeArgs,
      built: { main: path.join(dist, 'main.js'), cli: path.join(root, 'bin/hearth.js') },
    });
    const client = await addBackendClient(hearth, 'system/*.cruds', ['fhir-data-contributor']);
    token = await client.token(hearth);
  });

  after(async () => {
    await hearth.stop();
  });

  it('turns each entry into a one-line import of its bundle', async () => {
    assert.equal(stubs.length, Object.keys(ENTRIES).length);
    for (const [name, source] of Object.entries(ENTRIES)) {
      const stub = path.join(dist, source.replace(/\.ts$/, '.js'));
      const text = await readFile(stub, 'utf8');
      const specifier = /^import "([^"]+)";$/m.exec(text)?.[1] ?? '';
      assert.ok(specifier.endsWith(`bundle/${name}.js`), `${stub}: ${text}`);
      assert.ok((await stat(path.resolve(path.dirname(stub), specifier))).size > 0);
    }
  });

  it('writes every bundle file in Latin-1, so V8 keeps its text at one byte per character', async () => {
    assert.deepEqual(refused, []);
    assert.ok(files.length > Object.keys(ENTRIES).length);
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      const at = text.search(/[\u0100-\uffff]/);
      assert.equal(at, -1, `${f}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
    }
  });

  it('serves the CapabilityStatement with its SMART security from the bundled gateway and store', async () => {
    const res = await fetch(`${hearth.fhirBase}/metadata`);
    assert.equal(res.status, 200);
    const cs = (await res.json()) as {
      resourceType: string;
      rest?: { security?: { service?: unknown[] }; resource?: { type: string }[] }[];
    };
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.ok((cs.rest?.[0]?.security?.service?.length ?? 0) > 0);
    assert.ok(cs.rest?.[0]?.resource?.some((r) => r.type === 'Observation'));
  });

  it('runs the bundled validator thread, which finds the invalid entry of a Bundle', async () => {
    const worker = new Worker(path.join(dist, 'store/bundle/validate-worker.js'));
    try {
      const replies: unknown[] = [];
      const reply = new Promise<ValidateReply>((resolve, reject) => {
        worker.on('message', (m: unknown) => {
          replies.push(m);
          if (m !== VALIDATOR_READY) resolve(m as ValidateReply);
        });
        worker.once('error', reject);
      });
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } },
          {
            request: { method: 'POST', url: 'Patient' },
            resource: { resourceType: 'Patient', gender: 42 },
          },
        ],
      };
      const req: ValidateRequest = {
        id: 1,
        kind: 'bundle',
        body: new TextEncoder().encode(JSON.stringify(bundle)),
        placeholders: [],
      };
      worker.postMessage(req);
      const answer = await reply;
      assert.equal(replies[0], VALIDATOR_READY);
      assert.ok(answer.ok, JSON.stringify(answer));
      assert.deepEqual(answer.issues[0], []);
      assert.ok((answer.issues[1]?.length ?? 0) > 0);
    } finally {
      await worker.terminate();
    }
  });

  it('validates and stores a write, and refuses an invalid one', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': fhirJson };
    const created = await fetch(`${hearth.fhirBase}/Patient`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Bundleton' }] }),
    });
    assert.equal(created.status, 201);
    const invalid = await fetch(`${hearth.fhirBase}/Patient`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ resourceType: 'Patient', gender: 42 }),
    });
    assert.equal(invalid.status, 400);
    assert.equal(
      ((await invalid.json()) as { resourceType: string }).resourceType,
      'OperationOutcome',
    );
    const found = await fetch(`${hearth.fhirBase}/Patient?family=Bundleton`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(found.status, 200);
    assert.equal(((await found.json()) as { total?: number }).total, 1);
  });

  it('keeps an audit chain that the bundled CLI verifies (the audit writer thread)', async () => {
    const verified = await hearth.cli(['audit', 'verify', '--json']);
    assert.equal(verified.code, 0, verified.stderr);
    const checkpoint = await hearth.cli(['audit', 'checkpoint', '--json']);
    assert.equal(checkpoint.code, 0, checkpoint.stderr);
    assert.ok(Number((JSON.parse(checkpoint.stdout) as { seq?: unknown }).seq) >= 4);
  });
});

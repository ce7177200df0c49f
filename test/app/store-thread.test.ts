import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { startStoreThread, type StartedStore } from '../../app/start-store.js';
import { heapFits } from '../../common/heap-limit.js';
import { silentLog, tempDir, testConfig } from '../gateway/support/temp.js';

/**
 * The built-in store runs as a worker thread of Hearth's process (app/start-store.ts): it serves
 * FHIR on its socket under the heap bound MAX_BODY_BYTES needs, stops cleanly (in-flight requests
 * answered, database closed), and a store that cannot start rejects without taking the process
 * down.
 */

const MIB = 1024 * 1024;
const env = { ...process.env, LOG_LEVEL: 'silent', SQLITE_SYNC: 'normal' };

function get(
  socketPath: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the store as a thread of the Hearth process', function () {
  this.timeout(120_000);
  const tmp = tempDir();
  after(() => {
    tmp.cleanup();
  });

  let store: StartedStore | undefined;
  afterEach(async () => {
    await store?.stop();
    store = undefined;
  });

  it('serves FHIR on its socket, with the heap bound of MAX_BODY_BYTES, and stops cleanly', async () => {
    const dir = path.join(tmp.dir, 'a');
    const config = testConfig(dir);
    store = await startStoreThread(config, 'secret', silentLog, { ...env, DATA_DIR: dir });
    assert.equal(store.ready.address, path.join(dir, 'store.sock'));
    const meta = await get(store.ready.address, '/fhir/metadata');
    assert.equal(meta.status, 200, meta.body);
    assert.equal(
      (JSON.parse(meta.body) as { resourceType: string }).resourceType,
      'CapabilityStatement',
    );
    // The bound follows MAX_BODY_BYTES: big enough for it, far below node's own default here.
    assert.ok(heapFits(store.ready.heapLimitBytes, config.maxBodyBytes));
    assert.ok(!heapFits(store.ready.heapLimitBytes, 4 * config.maxBodyBytes));

    const stopping = store.stop();
    store = undefined;
    await stopping;
    await assert.rejects(get(path.join(dir, 'store.sock'), '/fhir/metadata'));
    // The last connection to close checkpoints the WAL and deletes it: the engine was closed.
    assert.ok(existsSync(path.join(dir, 'fhir.db')));
    assert.ok(!existsSync(path.join(dir, 'fhir.db-wal')), 'the database was not closed');
  });

  it('answers a request already in flight when asked to stop, and keeps what it wrote', async () => {
    const dir = path.join(tmp.dir, 'd');
    const config = testConfig(dir);
    const threadEnv = { ...env, DATA_DIR: dir };
    const started = await startStoreThread(config, 'secret', silentLog, threadEnv);
    const body = JSON.stringify({ resourceType: 'Patient', id: 'inflight', active: true });
    let answered: { status: number; body: string } | undefined;
    const req = request({
      socketPath: started.ready.address,
      method: 'PUT',
      path: '/fhir/Patient/inflight',
      // 100-continue: the store's answer to it says the request is parsed and in flight
      headers: {
        'content-type': 'application/fhir+json',
        'content-length': body.length,
        expect: '100-continue',
      },
    });
    const inFlight = new Promise<void>((resolve) =>
      req.once('continue', () => {
        resolve();
      }),
    );
    const response = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          answered = { status: res.statusCode ?? 0, body: text };
          resolve();
        });
      });
      req.on('error', reject);
    });
    req.flushHeaders();
    await inFlight;
    req.write(body.slice(0, 10));
    let stopped = false;
    const stopping = started.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stopped, false, 'the store stopped with a request in flight');
    req.end(body.slice(10));
    await response;
    await stopping;
    assert.equal(answered?.status, 201, answered?.body);

    store = await startStoreThread(config, 'secret', silentLog, threadEnv);
    const read = await get(store.ready.address, '/fhir/Patient/inflight');
    assert.equal(read.status, 200, read.body);
    assert.equal((JSON.parse(read.body) as { active?: boolean }).active, true);
  });

  it('runs with a larger bound when MAX_BODY_BYTES is larger', async () => {
    const dir = path.join(tmp.dir, 'b');
    const maxBody = String(16 * MIB);
    const config = testConfig(dir, { MAX_BODY_BYTES: maxBody });
    store = await startStoreThread(config, 'secret', silentLog, {
      ...env,
      DATA_DIR: dir,
      MAX_BODY_BYTES: maxBody,
    });
    assert.ok(heapFits(store.ready.heapLimitBytes, 16 * MIB));
    assert.ok(!heapFits(store.ready.heapLimitBytes, 64 * MIB));
  });

  it('rejects with the reason when the store cannot start, and the process carries on', async () => {
    const dir = path.join(tmp.dir, 'c');
    const storeUrl = 'postgres://nobody@127.0.0.1:1/none';
    const config = testConfig(dir, { STORE_URL: storeUrl });
    await assert.rejects(
      startStoreThread(config, 'secret', silentLog, { ...env, DATA_DIR: dir, STORE_URL: storeUrl }),
      /the store could not start: .*ECONNREFUSED/,
    );
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import {
  COMPRESS_IN_PLACE_MAX_BYTES,
  COMPRESS_THRESHOLD_BYTES,
  negotiateCoding,
} from '../../gateway/middleware/compress.js';
import { seed, startHarness, type Harness } from './support/harness.js';
import { PATIENT_CLAIMS } from './support/tokens.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request over a real socket, the body as it came off the wire (no client-side decoding). */
function raw(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The gateway's app on a real socket (not yet listening). */
function listen(h: Harness): http.Server {
  const handle = h.gw.app.callback();
  return http.createServer((req, res) => {
    void handle(req, res);
  });
}

/** `n` Observations of Patient/123, ids `${prefix}0`…, each with its code text and number. */
function putObservations(h: Harness, prefix: string, n: number, text: string): void {
  for (let i = 0; i < n; i++) {
    h.fhir.put({
      resourceType: 'Observation',
      id: `${prefix}${i}`,
      status: 'final',
      code: { text: `${text} ${i}` },
      subject: { reference: 'Patient/123' },
    });
  }
}

function decoded(r: Raw): string {
  const coding = r.headers['content-encoding'];
  if (coding === 'gzip') return gunzipSync(r.body).toString('utf8');
  if (coding === 'br') return brotliDecompressSync(r.body).toString('utf8');
  if (coding === 'deflate') return inflateSync(r.body).toString('utf8');
  assert.equal(coding, undefined);
  return r.body.toString('utf8');
}

describe('gateway answers in the content coding the client accepts', () => {
  let h: Harness;
  let server: http.Server;
  let port: number;
  let auth: Record<string, string>;
  before(async () => {
    h = await startHarness();
    seed(h.fhir);
    // A page large enough to compress: 40 Observations of the patient.
    putObservations(h, 'bp', 40, 'blood pressure reading number');
    server = listen(h);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    auth = { authorization: `Bearer ${await h.keys.mint(PATIENT_CLAIMS)}` };
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('compresses a search page with the best coding the client weighs highest', async () => {
    const plain = await raw(port, '/fhir/Observation', auth);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.length > COMPRESS_THRESHOLD_BYTES, `a page of ${plain.body.length} bytes`);
    const cases: [string, string][] = [
      ['gzip', 'gzip'],
      ['deflate', 'deflate'],
      ['br', 'br'],
      ['gzip, deflate, br', 'gzip'],
      ['br, gzip;q=0.9', 'br'],
      ['br;q=0.5, gzip', 'gzip'],
      ['*', 'gzip'],
      ['gzip;q=0, *;q=0.5', 'br'],
    ];
    for (const [accept, coding] of cases) {
      const res = await raw(port, '/fhir/Observation', { ...auth, 'accept-encoding': accept });
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers['content-encoding'], coding, accept);
      assert.match(String(res.headers.vary), /accept-encoding/i);
      assert.equal(res.headers['content-length'], String(res.body.length));
      assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
      assert.ok(res.body.length < plain.body.length / 3, `${accept}: ${res.body.length} bytes`);
      assert.deepEqual(JSON.parse(decoded(res)), JSON.parse(plain.body.toString('utf8')), accept);
    }
  });

  it('sends identity when the client asks for none, refuses all codings, or the answer is small', async () => {
    for (const accept of ['identity', 'gzip;q=0, br;q=0', undefined]) {
      const res = await raw(
        port,
        '/fhir/Observation',
        accept === undefined ? auth : { ...auth, 'accept-encoding': accept },
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], undefined, String(accept));
      // Caches must know the answer would differ for a client that accepts a coding.
      assert.match(String(res.headers.vary), /accept-encoding/i, String(accept));
      assert.ok(JSON.parse(res.body.toString('utf8')));
    }
    const small = await raw(port, '/fhir/Patient/123', { ...auth, 'accept-encoding': 'gzip' });
    assert.equal(small.status, 200);
    assert.ok(small.body.length < 1024);
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.headers['content-length'], String(small.body.length));
  });

  it('leaves HEAD answers alone', async () => {
    const head = await raw(port, '/fhir/metadata', { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.body.length, 0);
  });

  it('compresses an answer too large to compress in place on the thread pool', async () => {
    putObservations(h, 'big', 600, 'large page');
    const plain = await raw(port, '/fhir/Observation?code=large', auth);
    assert.ok(
      plain.body.length > COMPRESS_IN_PLACE_MAX_BYTES,
      `a page of ${plain.body.length} bytes`,
    );
    for (const coding of ['gzip', 'br', 'deflate']) {
      const res = await raw(port, '/fhir/Observation?code=large', {
        ...auth,
        'accept-encoding': coding,
      });
      assert.equal(res.headers['content-encoding'], coding);
      assert.deepEqual(JSON.parse(decoded(res)), JSON.parse(plain.body.toString('utf8')));
    }
  });

  it('audits a compressed answer as it audits a plain one', async () => {
    const res = await raw(port, '/fhir/Observation?code=x', {
      ...auth,
      'accept-encoding': 'gzip',
      'x-request-id': 'compressed-search',
    });
    assert.equal(res.status, 200);
    const page = await h.trail.search({
      count: 20,
      offset: 0,
      refs: { patient: [['Patient/123']] },
    });
    assert.ok(
      page.events.some((e) =>
        e.entity?.some((x) => x.what?.identifier?.value === 'compressed-search'),
      ),
    );
  });
});

describe('negotiateCoding', () => {
  it('takes the highest weight, breaking ties gzip, br, deflate, and * for the unnamed', () => {
    const cases: [string, string | undefined][] = [
      ['gzip', 'gzip'],
      ['gzip, deflate, br, zstd', 'gzip'],
      ['br, zstd', 'br'],
      ['deflate;q=0.9, gzip;q=0.8', 'deflate'],
      ['GZIP;Q=0.5', 'gzip'],
      ['*;q=0.1, br;q=0', 'gzip'],
      ['identity', undefined],
      ['zstd', undefined],
      ['gzip;q=0', undefined],
      ['gzip;q=abc', undefined],
      ['', undefined],
      [' , ;q=1', undefined],
    ];
    for (const [header, coding] of cases) assert.equal(negotiateCoding(header), coding, header);
  });
});

describe('no audit, no data, with compression', () => {
  it('sends the 500 uncompressed and without the data when the audit cannot be written', async () => {
    const h = await startHarness();
    seed(h.fhir);
    putObservations(h, 'x', 40, 'mine, and some more text to pass the threshold');
    const server = listen(h);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const token = await h.keys.mint(PATIENT_CLAIMS);
      await h.trail.close();
      const res = await raw((server.address() as AddressInfo).port, '/fhir/Observation', {
        authorization: `Bearer ${token}`,
        'accept-encoding': 'gzip',
      });
      assert.equal(res.status, 500);
      assert.equal(res.headers['content-encoding'], undefined);
      const body = JSON.parse(res.body.toString('utf8')) as { resourceType: string };
      assert.equal(body.resourceType, 'OperationOutcome');
      assert.doesNotMatch(res.body.toString('utf8'), /mine/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await h.close();
    }
  });
});

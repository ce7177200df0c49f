import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  disclosureOf,
  disclosureOfBody,
  disclosureOfHeaders,
} from '../../gateway/proxy/disclosure.js';
import { Upstream } from '../../gateway/proxy/upstream.js';
import { disclosureHeaders } from '../../store/http/trusted.js';
import type { Disclosure } from '../../store/http/types.js';
import {
  DISCLOSURE_HEADER,
  ENTITIES_HEADER,
  MAX_DISCLOSURE_HEADER_BYTES,
  PATIENTS_HEADER,
} from '../../store/protocol.js';

/** A created Patient and `perPatient` Observations of it, as a transaction discloses them. */
function disclosed(patients: number, perPatient: number): Disclosure[] {
  const out: Disclosure[] = [];
  for (let p = 0; p < patients; p++) {
    const pid = randomUUID();
    out.push({
      type: 'Patient',
      id: pid,
      version: 1,
      resource: { resourceType: 'Patient', id: pid },
    });
    for (let o = 0; o < perPatient; o++) {
      const id = randomUUID();
      out.push({
        type: 'Observation',
        id,
        version: 1,
        resource: { resourceType: 'Observation', id, subject: { reference: `Patient/${pid}` } },
      });
    }
  }
  return out;
}

const headerBytes = (h: Record<string, string>): number =>
  Object.values(h).reduce((n, v) => n + v.length, 0);

describe('the store reports large disclosures in headers, and the gateway reads them', () => {
  it('names the 500 resources of a transaction at BUNDLE_MAX_ENTRIES in headers, not "read the body"', () => {
    // Two patients with 249 Observations each: about 32 KB of headers (8 KiB was the bound before).
    const d = disclosed(2, 249);
    const h = disclosureHeaders(d);
    assert.equal(h[DISCLOSURE_HEADER], undefined);
    assert.ok(headerBytes(h) > 30_000, String(headerBytes(h)));
    const back = disclosureOfHeaders(h);
    assert.equal(back.entities.length, 500);
    assert.equal(back.patients.length, 2);
    for (const [p, own] of back.byPatient) {
      // Each patient owns itself and its own 249 Observations, never the other's.
      assert.equal(own.length, 250);
      assert.ok(own.includes(`Patient/${p}/_history/1`));
    }
  });

  it('names a page of 1,000 Patients in headers', () => {
    const h = disclosureHeaders(disclosed(1000, 0));
    assert.equal(h[DISCLOSURE_HEADER], undefined);
    assert.equal(disclosureOfHeaders(h).patients.length, 1000);
  });

  it('falls back to "read the body" past the bound, still naming the patients', () => {
    const n = Math.ceil(MAX_DISCLOSURE_HEADER_BYTES / 60) + 100;
    const d = disclosed(1, n);
    const h = disclosureHeaders(d);
    assert.deepEqual(h, { [DISCLOSURE_HEADER]: 'body', [PATIENTS_HEADER]: d[0]?.id });
  });

  describe('reading a disclosure from a response body', () => {
    const patientsOf = (r: { resourceType?: unknown; id?: unknown }): string[] =>
      r.resourceType === 'Patient' && typeof r.id === 'string' ? [r.id] : [];
    // A transaction-response written with `Prefer: return=minimal`: locations, no resources.
    const minimal = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '201 Created', location: 'Patient/p1/_history/1' } },
        {
          response: {
            status: '201 Created',
            location: 'https://ehr.example/fhir/Observation/o1/_history/1',
          },
        },
        { response: { status: '200 OK', location: 'Observation/o2/_history/3' } },
        { response: { status: '200 OK' } },
      ],
    };

    it('names what a transaction wrote from its locations when the resources are left out', () => {
      const d = disclosureOf(minimal, patientsOf);
      assert.deepEqual(d.entities, [
        'Patient/p1/_history/1',
        'Observation/o1/_history/1',
        'Observation/o2/_history/3',
      ]);
      // A Patient's location says whose it is; an Observation's does not.
      assert.deepEqual(d.patients, ['p1']);
      assert.deepEqual(d.byPatient.get('p1'), ['Patient/p1/_history/1']);
    });

    it('gives the patients of x-hearth-patients the entities the body gives no patient', () => {
      const d = disclosureOfBody(minimal, { [PATIENTS_HEADER]: 'p1,p2' }, patientsOf);
      assert.deepEqual(d.patients, ['p1', 'p2']);
      assert.deepEqual(d.byPatient.get('p1'), ['Patient/p1/_history/1']);
      assert.deepEqual(d.byPatient.get('p2'), [
        'Observation/o1/_history/1',
        'Observation/o2/_history/3',
      ]);
      // Without the header, the body alone.
      assert.deepEqual(
        disclosureOfBody(minimal, {}, patientsOf),
        disclosureOf(minimal, patientsOf),
      );
    });
  });

  describe('through the gateway’s pool to the store socket', () => {
    let dir: string;
    let server: Server | undefined;
    let upstream: Upstream | undefined;
    let headers: Record<string, string>;
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-disclosure-'));
      // 4,000 Observations of one patient: 248 KB of headers, 62 bytes per Observation.
      const n = 4000;
      headers = disclosureHeaders(disclosed(1, n));
      assert.equal(headers[DISCLOSURE_HEADER], undefined);
      assert.ok(headerBytes(headers) > 240_000, String(headerBytes(headers)));
      const s = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/fhir+json', ...headers });
        res.end('{"resourceType":"Bundle","type":"transaction-response","entry":[]}');
      });
      const socket = path.join(dir, 'store.sock');
      await new Promise<void>((resolve) => s.listen(socket, resolve));
      server = s;
      upstream = new Upstream({ socketPath: socket, isBuiltInStore: true, internalSecret: 's' });
    });
    after(async () => {
      upstream?.close();
      const s = server;
      if (s?.listening === true) await new Promise((resolve) => s.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads a header block of 248 KB (undici’s default bound is 16 KiB)', async () => {
      assert.ok(upstream !== undefined);
      const res = await upstream.request({
        method: 'POST',
        path: '',
        headers: {},
        body: Buffer.from('{}'),
        requestId: 'r1',
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers[ENTITIES_HEADER], headers[ENTITIES_HEADER]);
      const d = disclosureOfHeaders(res.headers);
      assert.equal(d.entities.length, 4001);
    });
  });
});

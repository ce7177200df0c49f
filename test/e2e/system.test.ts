import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MAX_DISCLOSURE_HEADER_BYTES } from '../../store/protocol.js';
import { addBackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * The whole of Hearth as `npm start` runs it: one port, the store in its own process, a backend
 * service obtaining a real token through the real token endpoint, data written and read through the
 * gateway, and the audit trail recording it.
 */
describe('Hearth end to end (npm start)', function () {
  this.timeout(180_000);
  let hearth: RunningHearth;
  let token: string;

  before(async () => {
    // Room for a transaction whose disclosure is too large for the store's headers (below).
    hearth = await startHearth({ env: { BUNDLE_MAX_ENTRIES: '5000' } });
    const client = await addBackendClient(
      hearth,
      'system/*.cruds system/AuditEvent.rs',
      ['fhir-data-contributor', 'fhir-audit-reader'],
      'e2e-service',
    );
    token = await client.token(hearth);
  });
  after(async () => {
    await hearth.stop();
  });

  const fhir = (p: string, init: RequestInit = {}) =>
    fetch(`${hearth.fhirBase}/${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/fhir+json',
        'content-type': 'application/fhir+json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  it('answers /health with status ok once the store and auth databases answer', async () => {
    const res = await fetch(`${hearth.baseUrl}/health`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });

  it('serves Prometheus text at /metrics', async () => {
    const res = await fetch(`${hearth.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# (HELP|TYPE) hearth_/m);
  });

  it('serves an R4 CapabilityStatement with SMART security and no token', async () => {
    const res = await fetch(`${hearth.fhirBase}/metadata`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(res.status, 200);
    const cs = (await res.json()) as {
      resourceType: string;
      fhirVersion: string;
      rest: { security?: { service?: { coding?: { code?: string }[] }[] } }[];
    };
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    const codes = cs.rest[0]?.security?.service?.flatMap((s) => s.coding ?? []).map((c) => c.code);
    assert.ok(codes?.includes('SMART-on-FHIR'));
  });

  it('answers a request without a token with 401 and a Bearer challenge', async () => {
    const res = await fetch(`${hearth.fhirBase}/Patient`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  });

  it('creates, reads and searches a patient through the gateway with a backend-services token', async () => {
    const created = await fhir('Patient', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Patient',
        name: [{ family: 'Ångström', given: ['Åsa'] }],
        birthDate: '1970-01-02',
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const location = created.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${hearth.fhirBase}/Patient/`), location);
    const id = location.split('/')[5] ?? '';
    const read = await fhir(`Patient/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('etag'), 'W/"1"');
    const found = (await (await fhir('Patient?name=angstrom')).json()) as {
      entry?: { resource: { id: string } }[];
    };
    assert.deepEqual(
      found.entry?.map((e) => e.resource.id),
      [id],
    );
  });

  it('audits every resource of a transaction too large for the store disclosure headers', async () => {
    // About 98 bytes of headers per created Patient: past the bound, the gateway reads the body.
    const n = Math.ceil(MAX_DISCLOSURE_HEADER_BYTES / 90);
    const entries = Array.from({ length: n }, (_, i) => ({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: { resourceType: 'Patient', name: [{ family: `Bulk${i}` }] },
      request: { method: 'POST', url: 'Patient' },
    }));
    const res = await fhir('', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const bundle = (await res.json()) as { entry: { response: { location: string } }[] };
    assert.equal(bundle.entry.length, n);
    // One event per created Patient: every page of them.
    const refs = new Set<string | undefined>();
    let page: string | undefined = `${hearth.fhirBase}/AuditEvent?subtype=transaction&_count=1000`;
    while (page !== undefined) {
      const audit = (await (await fhir(page.slice(hearth.fhirBase.length + 1))).json()) as {
        entry?: { resource: { entity?: { what?: { reference?: string } }[] } }[];
        link?: { relation: string; url: string }[];
      };
      for (const e of audit.entry ?? [])
        for (const x of e.resource.entity ?? []) refs.add(x.what?.reference);
      page = audit.link?.find((l) => l.relation === 'next')?.url;
    }
    for (const e of bundle.entry) {
      const ref = e.response.location.replace(`${hearth.fhirBase}/`, '');
      assert.ok(refs.has(ref), `${ref} is not in the audit trail`);
    }
  });

  it("names every resource of such a transaction written with Prefer: return=minimal, in its patient's event", async () => {
    const patient = await fhir('Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Minimal' }] }),
    });
    const pid = ((await patient.json()) as { id: string }).id;
    // About 62 bytes of headers per Observation: past the bound.
    const n = Math.ceil(MAX_DISCLOSURE_HEADER_BYTES / 60);
    const entries = Array.from({ length: n }, (_, i) => ({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: `minimal ${i}` },
        subject: { reference: `Patient/${pid}` },
      },
      request: { method: 'POST', url: 'Observation' },
    }));
    const res = await fhir('', {
      method: 'POST',
      headers: { prefer: 'return=minimal' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const bundle = (await res.json()) as {
      entry: { resource?: unknown; response: { location: string } }[];
    };
    assert.equal(bundle.entry.length, n);
    assert.ok(bundle.entry.every((e) => e.resource === undefined));
    const audit = (await (
      await fhir(`AuditEvent?patient=Patient/${pid}&subtype=transaction`)
    ).json()) as {
      entry?: { resource: { entity?: { what?: { reference?: string } }[] } }[];
    };
    const events = audit.entry ?? [];
    assert.equal(events.length, 1);
    const named = new Set((events[0]?.resource.entity ?? []).map((x) => x.what?.reference));
    for (const e of bundle.entry) {
      const ref = e.response.location.replace(`${hearth.fhirBase}/`, '');
      assert.ok(named.has(ref), `${ref} is not in Patient/${pid}'s audit event`);
    }
  });

  it("names only each patient's own resources in that patient's event of a search disclosing many patients", async () => {
    const res = await fhir('Patient?name=Bulk&_count=1000&_elements=id');
    assert.equal(res.status, 200);
    const found = (await res.json()) as { entry: { resource: { id: string } }[] };
    assert.ok(found.entry.length >= 400, String(found.entry.length));
    const one = found.entry[7]?.resource.id ?? '';
    const audit = (await (
      await fhir(`AuditEvent?patient=Patient/${one}&subtype=search-type&_count=10`)
    ).json()) as {
      entry?: { resource: { entity?: { what?: { reference?: string } }[] } }[];
    };
    const events = audit.entry ?? [];
    assert.equal(events.length, 1);
    const named = (events[0]?.resource.entity ?? [])
      .map((x) => (x.what?.reference ?? '').replace(/\/_history\/.*$/, ''))
      .filter((r) => r.startsWith('Patient/'));
    // The patient entity and the one disclosed Patient resource: never the other 399.
    assert.deepEqual(new Set(named), new Set([`Patient/${one}`]));
  });

  it("names only each patient's own resources in a small search page's events too (store headers)", async () => {
    const res = await fhir('Patient?name=Bulk&_count=3&_elements=id');
    assert.equal(res.status, 200);
    const found = (await res.json()) as { entry: { resource: { id: string } }[] };
    assert.equal(found.entry.length, 3);
    for (const { resource } of found.entry) {
      const audit = (await (
        await fhir(`AuditEvent?patient=Patient/${resource.id}&subtype=search-type&_count=50`)
      ).json()) as {
        entry?: { resource: { entity?: { what?: { reference?: string } }[] } }[];
      };
      // This patient's event of the 3-patient page (the 1000-patient page above made another).
      const small = (audit.entry ?? []).filter(
        (e) =>
          (e.resource.entity ?? []).filter((x) => x.what?.reference?.startsWith('Patient/'))
            .length > 0,
      );
      assert.ok(small.length >= 1);
      for (const e of small) {
        const named = (e.resource.entity ?? [])
          .map((x) => (x.what?.reference ?? '').replace(/\/_history\/.*$/, ''))
          .filter((r) => r.startsWith('Patient/'));
        assert.deepEqual(new Set(named), new Set([`Patient/${resource.id}`]));
      }
    }
  });

  it("audits a search page trimmed by _elements as disclosing its patient's data, though the returned resources no longer name the patient", async () => {
    const patient = (await (
      await fhir('Patient', {
        method: 'POST',
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Trimmed' }] }),
      })
    ).json()) as { id: string };
    const obs = (await (
      await fhir('Observation', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: `Patient/${patient.id}` },
        }),
      })
    ).json()) as { id: string };
    const res = await fhir(`Observation?subject=Patient/${patient.id}&_elements=code`);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { entry: { resource: { id: string; subject?: unknown } }[] };
    assert.deepEqual(
      page.entry.map((e) => [e.resource.id, e.resource.subject]),
      [[obs.id, undefined]],
    );
    const audit = (await (
      await fhir(`AuditEvent?patient=Patient/${patient.id}&subtype=search-type&_count=10`)
    ).json()) as { entry?: { resource: { entity?: { what?: { reference?: string } }[] } }[] };
    const named = (audit.entry ?? []).flatMap((e) =>
      (e.resource.entity ?? []).map((x) =>
        (x.what?.reference ?? '').replace(/\/_history\/.*$/, ''),
      ),
    );
    assert.ok(named.includes(`Observation/${obs.id}`), JSON.stringify(named));
    // A read trimmed the same way: trimmed answer, whole disclosure.
    const read = await fhir(`Observation/${obs.id}?_elements=code`);
    assert.equal(read.status, 200);
    const trimmed = (await read.json()) as { subject?: unknown; code?: unknown };
    assert.equal(trimmed.subject, undefined);
    assert.ok(trimmed.code !== undefined);
    const reads = (await (
      await fhir(`AuditEvent?patient=Patient/${patient.id}&subtype=read&_count=10`)
    ).json()) as { total?: number; entry?: unknown[] };
    assert.equal(reads.entry?.length, 1);
  });

  it('records the requests in an audit trail readable at /fhir/AuditEvent and verifiable by the CLI', async () => {
    const res = await fhir('AuditEvent?subtype=create');
    assert.equal(res.status, 200);
    const bundle = (await res.json()) as { entry?: { resource: { resourceType: string } }[] };
    assert.ok((bundle.entry?.length ?? 0) >= 1);
    const cliChange = (await (await fhir('AuditEvent?subtype=client-add')).json()) as {
      entry?: unknown[];
    };
    assert.ok((cliChange.entry?.length ?? 0) >= 1, 'the CLI client registration is audited');
    const verify = await hearth.cli(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
  });
});

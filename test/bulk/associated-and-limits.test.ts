import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { addBackendClient, type BackendClient } from '../support/backend-client.js';
import { startHearth, type RunningHearth } from '../support/hearth.js';

/**
 * `includeAssociatedData` (Bulk Data IG v2 Provenance values, strict and lenient handling) and the
 * per-client bulk job limit, through the whole of Hearth.
 */

interface Manifest {
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

describe('Bulk Data includeAssociatedData and per-client job limits', function () {
  this.timeout(300_000);
  let hearth: RunningHearth;
  let exporter: BackendClient;
  let token: string;
  let patientId: string;
  let otherPatientId: string;

  const headers = (t: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${t}`,
    accept: 'application/fhir+json',
    ...extra,
  });
  const kickoff = (t: string, query: string, prefer = 'respond-async') =>
    fetch(`${hearth.fhirBase}/${query}`, { headers: headers(t, { prefer }) });

  async function finished(t: string, status: string): Promise<Manifest> {
    for (let i = 0; i < 1200; i++) {
      const res = await fetch(status, { headers: headers(t) });
      if (res.status === 200) return (await res.json()) as Manifest;
      assert.equal(res.status, 202, await res.text());
      await sleep(100);
    }
    throw new Error('the job did not finish');
  }

  async function lines(t: string, m: Manifest, type: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (const o of m.output.filter((x) => x.type === type)) {
      const text = await (await fetch(o.url, { headers: headers(t) })).text();
      for (const l of text.split('\n'))
        if (l !== '') out.push(JSON.parse(l) as Record<string, unknown>);
    }
    return out;
  }

  async function exportOf(t: string, query: string, prefer?: string): Promise<Manifest> {
    const res = await kickoff(t, query, prefer);
    assert.equal(res.status, 202, await res.text());
    return finished(t, res.headers.get('content-location') ?? '');
  }

  before(async () => {
    hearth = await startHearth({
      args: ['--demo', '2'],
      env: { BULK_MAX_JOBS: '1', BULK_MAX_JOBS_PER_CLIENT: '2', EXPORT_MAX_RATE: '50' },
    });
    exporter = await addBackendClient(hearth, 'system/*.rs', ['fhir-data-exporter']);
    token = await exporter.token(hearth);
    const m = await exportOf(token, '$export?_type=Patient');
    const patients = await lines(token, m, 'Patient');
    patientId = String(patients[0]?.id);
    otherPatientId = String(patients[1]?.id);
    const writer = await addBackendClient(hearth, 'system/*.cruds', ['fhir-data-contributor']);
    const wt = await writer.token(hearth);
    const provenance = (id: string, recorded: string, targets: string[]) =>
      fetch(`${hearth.fhirBase}/Provenance/${id}`, {
        method: 'PUT',
        headers: headers(wt, { 'content-type': 'application/fhir+json' }),
        body: JSON.stringify({
          resourceType: 'Provenance',
          id,
          recorded,
          target: targets.map((reference) => ({ reference })),
          agent: [{ who: { display: 'test' } }],
        }),
      });
    for (const [id, recorded, targets] of [
      ['prov-old', '2023-01-01T00:00:00Z', [`Patient/${patientId}`]],
      [
        'prov-new',
        '2025-01-01T00:00:00+01:00',
        [`${hearth.fhirBase}/Patient/${patientId}/_history/1`],
      ],
      ['prov-mid', '2024-06-01T00:00:00Z', [`Patient/${patientId}`, `Patient/${otherPatientId}`]],
      ['prov-elsewhere', '2025-06-01T00:00:00Z', ['Practitioner/nobody']],
    ] as const) {
      const res = await provenance(id, recorded, [...targets]);
      assert.equal(res.status, 201, await res.text());
    }
  });
  after(async () => hearth.stop());

  const ids = (rs: Record<string, unknown>[]) => rs.map((r) => String(r.id)).sort();

  it('adds every Provenance targeting an exported resource with RelevantProvenanceResources', async () => {
    const m = await exportOf(
      token,
      '$export?_type=Patient&includeAssociatedData=RelevantProvenanceResources',
    );
    assert.deepEqual(ids(await lines(token, m, 'Provenance')), [
      'prov-mid',
      'prov-new',
      'prov-old',
    ]);
    assert.deepEqual(m.error, []);
  });

  it('adds only the latest Provenance per exported resource with LatestProvenanceResources', async () => {
    const m = await exportOf(
      token,
      '$export?_type=Patient&includeAssociatedData=LatestProvenanceResources',
    );
    // prov-new is the latest for the first patient, prov-mid for the second.
    assert.deepEqual(ids(await lines(token, m, 'Provenance')), ['prov-mid', 'prov-new']);
  });

  it('keeps Provenance for the exported patients only in a patient-level export', async () => {
    const res = await fetch(`${hearth.fhirBase}/Patient/$export`, {
      method: 'POST',
      headers: headers(token, { prefer: 'respond-async', 'content-type': 'application/fhir+json' }),
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: '_type', valueString: 'Patient' },
          { name: 'patient', valueReference: { reference: `Patient/${otherPatientId}` } },
          { name: 'includeAssociatedData', valueCode: 'RelevantProvenanceResources' },
        ],
      }),
    });
    assert.equal(res.status, 202, await res.text());
    const m = await finished(token, res.headers.get('content-location') ?? '');
    assert.deepEqual(ids(await lines(token, m, 'Provenance')), ['prov-mid']);
  });

  it('refuses an unknown includeAssociatedData value with an OperationOutcome (strict)', async () => {
    for (const prefer of ['respond-async', 'respond-async, handling=strict']) {
      const res = await kickoff(token, '$export?includeAssociatedData=_sideEffects', prefer);
      assert.equal(res.status, 400);
      const oo = (await res.json()) as { resourceType: string; issue: { code: string }[] };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0]?.code, 'not-supported');
    }
  });

  it('ignores an unknown value under handling=lenient and reports it in error[]', async () => {
    const m = await exportOf(
      token,
      '$export?_type=Patient&includeAssociatedData=_sideEffects,LatestProvenanceResources',
      'respond-async, handling=lenient',
    );
    const [warnings, ...more] = m.error;
    assert.ok(warnings !== undefined && more.length === 0);
    assert.equal(warnings.type, 'OperationOutcome');
    const text = await (await fetch(warnings.url, { headers: headers(token) })).text();
    const oo = JSON.parse(text.trim()) as { issue: { severity: string; diagnostics: string }[] };
    const [warning] = oo.issue;
    assert.ok(warning !== undefined);
    assert.equal(warning.severity, 'warning');
    assert.match(warning.diagnostics, /_sideEffects/);
    assert.deepEqual(ids(await lines(token, m, 'Provenance')), ['prov-mid', 'prov-new']);
  });

  it("refuses associated Provenance the token's scopes do not allow (403)", async () => {
    const narrow = await addBackendClient(hearth, 'system/Patient.rs', ['fhir-data-exporter']);
    const res = await kickoff(
      await narrow.token(hearth),
      '$export?includeAssociatedData=RelevantProvenanceResources',
    );
    assert.equal(res.status, 403);
  });

  it('answers 429 with Retry-After once a client has BULK_MAX_JOBS_PER_CLIENT jobs; others still queue', async () => {
    const started: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await kickoff(token, '$export');
      assert.equal(res.status, 202, await res.text());
      started.push(res.headers.get('content-location') ?? '');
    }
    const over = await kickoff(token, '$export');
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) > 0);
    const oo = (await over.json()) as { resourceType: string; issue: { code: string }[] };
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.equal(oo.issue[0]?.code, 'throttled');
    const other = await addBackendClient(hearth, 'system/*.rs', ['fhir-data-exporter']);
    const otherToken = await other.token(hearth);
    const queued = await kickoff(otherToken, '$export?_type=Patient');
    assert.equal(queued.status, 202, 'the global limit queues, it does not refuse');
    const del = await fetch(started[0] ?? '', { method: 'DELETE', headers: headers(token) });
    assert.equal(del.status, 202);
    const again = await kickoff(token, '$export?_type=Patient');
    assert.equal(again.status, 202, 'a slot is free again after a cancel');
    await finished(otherToken, queued.headers.get('content-location') ?? '');
  });
});

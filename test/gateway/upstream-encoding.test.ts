import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { seed, startHarness, type Harness } from './support/harness.js';

interface SearchBundle {
  entry?: { resource: { id: string; subject?: { reference: string } } }[];
}

/**
 * An external FHIR_UPSTREAM that compresses its answers (as servers and the proxies in front of
 * them do when a request allows it) must not reach the client undecoded: the gateway reads every
 * answer to filter it to the token's compartment, rewrite its URLs and audit what it disclosed.
 */
describe('gateway in front of an upstream that compresses its answers', () => {
  for (const mode of ['when-allowed', 'always'] as const) {
    describe(`an upstream that gzips ${mode === 'always' ? 'every answer' : 'when the request allows it'}`, () => {
      let h: Harness;
      let agent: ReturnType<typeof request>;
      let patientToken: string;
      before(async () => {
        h = await startHarness({ external: true, upstreamGzip: mode });
        seed(h.fhir);
        agent = request(h.gw.app.callback());
        patientToken = await h.keys.mint({
          sub: 'p',
          scope: 'patient/*.rs',
          patient: '123',
          roles: ['fhir-data-reader'],
        });
      });
      after(async () => {
        await h.close();
      });

      it('asks the upstream for identity, whatever the client accepts', async () => {
        await agent
          .get('/fhir/Patient/123')
          .set('Authorization', `Bearer ${patientToken}`)
          .set('Accept-Encoding', 'gzip, deflate, br');
        assert.equal(h.fhir.requests.at(-1)?.headers['accept-encoding'], 'identity');
      });

      it('filters, rewrites and audits a gzipped search answer like a plain one', async () => {
        const res = await agent
          .get('/fhir/Observation')
          .set('Authorization', `Bearer ${patientToken}`)
          .set('Accept-Encoding', 'gzip')
          .set('X-Request-Id', `gz-search-${mode}`);
        assert.equal(res.status, 200);
        const body = res.body as SearchBundle;
        assert.deepEqual(
          body.entry?.map((e) => e.resource.id),
          ['o1'],
        );
        const page = await h.trail.search({
          count: 20,
          offset: 0,
          refs: { patient: [['Patient/123']], entity: [['Observation/o1']] },
        });
        assert.ok(
          page.events.some((e) =>
            e.entity?.some((x) => x.what?.identifier?.value === `gz-search-${mode}`),
          ),
        );
      });

      it("answers 404 for another patient's resource even when the upstream gzipped it", async () => {
        const res = await agent
          .get('/fhir/Observation/o2')
          .set('Authorization', `Bearer ${patientToken}`)
          .set('Accept-Encoding', 'gzip');
        assert.equal(res.status, 404);
      });

      it('serves the CapabilityStatement of a compressing upstream', async () => {
        const res = await agent.get('/fhir/metadata').set('Accept-Encoding', 'gzip');
        assert.equal(res.status, 200);
        assert.equal(
          (res.body as { implementation: { url: string } }).implementation.url,
          'http://localhost:8080/fhir',
        );
      });
    });
  }

  describe('an upstream answering in a coding the gateway cannot read', () => {
    let h: Harness;
    let server: http.Server;
    let token: string;
    before(async () => {
      server = http.createServer((req, res) => {
        req.resume();
        const answer = (body: Buffer, encoding: string): void => {
          res.writeHead(200, {
            'content-type': 'application/fhir+json',
            'content-encoding': encoding,
          });
          res.end(body);
        };
        if (req.url?.includes('/Patient/zstd') === true)
          answer(Buffer.from('(zstd frame)'), 'zstd');
        else if (req.url?.includes('/Patient/corrupt') === true)
          answer(Buffer.from('not gzip'), 'gzip');
        else
          answer(
            gzipSync(
              JSON.stringify({ resourceType: 'Patient', id: 'fine', name: [{ family: 'Z' }] }),
            ),
            'gzip',
          );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r4`;
      h = await startHarness({
        external: true,
        env: { FHIR_UPSTREAM: url },
        gateway: { upstream: { url, isBuiltInStore: false } },
      });
      token = await h.keys.mint({ sub: 'c', scope: 'system/*.rs', roles: ['fhir-data-reader'] });
    });
    after(async () => {
      await h.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('answers 502 with an OperationOutcome for an unknown or corrupt coding', async () => {
      for (const id of ['zstd', 'corrupt']) {
        const res = await request(h.gw.app.callback())
          .get(`/fhir/Patient/${id}`)
          .set('Authorization', `Bearer ${token}`);
        assert.equal(res.status, 502, id);
        const outcome = res.body as { resourceType: string; issue: { diagnostics?: string }[] };
        assert.equal(outcome.resourceType, 'OperationOutcome');
        assert.match(outcome.issue[0]?.diagnostics ?? '', /Content-Encoding|could not be decoded/);
      }
      const fine = await request(h.gw.app.callback())
        .get('/fhir/Patient/fine')
        .set('Authorization', `Bearer ${token}`);
      assert.equal(fine.status, 200);
      assert.equal(fine.headers['content-encoding'], undefined);
      assert.equal((fine.body as { id: string }).id, 'fine');
    });
  });
});

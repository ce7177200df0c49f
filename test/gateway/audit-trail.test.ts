import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { AuthEvents } from '../../auth/index.js';
import { auditAuthEvents } from '../../gateway/audit/auth-events.js';
import { adminAuditEvent, authAuditEvent, restAuditEvents } from '../../gateway/audit/events.js';
import { openAuditStore } from '../../gateway/audit/open-audit-store.js';
import { AuditTrail, type AuditTrailOptions } from '../../gateway/audit/trail.js';
import { verifyAudit, type VerifyResult } from '../../gateway/audit/verify.js';
import { places, type Place } from './support/audit-places.js';
import { rest } from './support/rest-events.js';
import { runGatewayCli } from './support/run-cli.js';
import { silentLog } from './support/temp.js';

const SITE = 'http://localhost:8080/fhir';

for (const { name, open } of places) {
  describe(`gateway audit trail (${name})`, () => {
    let t: Place;
    let trail: AuditTrail;
    const newTrail = (extra: Partial<AuditTrailOptions> = {}) =>
      new AuditTrail({
        dataDir: t.dir,
        sync: 'normal',
        log: silentLog,
        storeUrl: t.storeUrl,
        ...extra,
      });
    const tamper = (_dir: string, sql: string[]) => t.tamper(sql);
    const verify = async (_dir: string, kept: unknown[] = []): Promise<VerifyResult> => {
      const store = openAuditStore({
        dataDir: t.dir,
        sync: 'normal',
        storeUrl: t.storeUrl,
        readonly: true,
      });
      try {
        return await verifyAudit(store, kept as never[]);
      } finally {
        await store.close();
      }
    };
    const cli = (_dir: string, args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
        env: { ...process.env, DATA_DIR: t.dir, ...t.env },
        encoding: 'utf8',
      });

    beforeEach(async () => {
      t = open();
      trail = newTrail({ ndjson: path.join(t.dir, 'audit.ndjson') });
      for (let i = 1; i <= 10; i++) await trail.record(rest(i, i % 2 === 0 ? ['p1'] : ['p2']));
    });
    afterEach(async () => {
      await trail.close();
      await t.cleanup();
    });
    it('verifies an untouched chain', async () => {
      const r = await verify(t.dir);
      assert.equal(r.ok, true);
      assert.equal(r.records, 10);
    });

    it('commits everything recorded in one event-loop turn together and in order', async () => {
      await Promise.all(Array.from({ length: 300 }, (_, i) => trail.record(rest(100 + i))));
      const r = await verify(t.dir);
      assert.equal(r.ok, true);
      assert.equal(r.records, 310);
      assert.equal(trail.queueDepth(), 0);
    });

    it('streams committed records to AUDIT_NDJSON', () => {
      const lines = readFileSync(path.join(t.dir, 'audit.ndjson'), 'utf8').trim().split('\n');
      assert.equal(lines.length, 10);
      assert.equal((JSON.parse(lines[0] ?? '{}') as AuditEvent).resourceType, 'AuditEvent');
    });

    it('refuses UPDATE and DELETE on records through the database itself', async () => {
      await trail.checkpoint();
      await assert.rejects(
        t.sql("UPDATE audit_record SET event = '{}' WHERE seq = 3"),
        /append-only/,
      );
      await assert.rejects(t.sql('DELETE FROM audit_record WHERE seq = 3'), /append-only/);
      await assert.rejects(t.sql('DELETE FROM audit_checkpoint'), /append-only/);
    });

    it('detects an edited record and names it', async () => {
      await trail.close();
      await tamper(t.dir, [
        "UPDATE audit_record SET event = replace(event, 'Observation/4', 'Observation/999') WHERE seq = 4",
      ]);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.equal(r.seq, 4);
    });

    it('detects a deleted record and names it', async () => {
      await trail.close();
      await tamper(t.dir, ['DELETE FROM audit_record WHERE seq = 6']);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.match(r.problem, /record 6 is missing/);
    });

    it('detects reordered records', async () => {
      await trail.close();
      await tamper(t.dir, [
        'UPDATE audit_record SET seq = -1 WHERE seq = 3',
        'UPDATE audit_record SET seq = 3 WHERE seq = 4',
        'UPDATE audit_record SET seq = 4 WHERE seq = -1',
      ]);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.equal(r.seq, 3);
    });

    it('detects a rewritten chain through the signed checkpoint', async () => {
      await trail.close(); // writes a checkpoint over records 1–10
      const rows = await t.rows();
      // The attacker edits record 2 and recomputes every hash after it.
      const { recordHash, GENESIS_HASH } = await import('../../gateway/audit/chain.js');
      let prev = GENESIS_HASH;
      const sql: string[] = [];
      for (const row of rows) {
        const event =
          row.seq === 2 ? row.event.replace('Observation/2', 'Observation/222') : row.event;
        const hash = recordHash(row.seq, prev, event);
        sql.push(
          `UPDATE audit_record SET event = '${event.replace(/'/g, "''")}', prev_hash = '${prev}', hash = '${hash}' WHERE seq = ${row.seq}`,
        );
        prev = hash;
      }
      await tamper(t.dir, sql);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.match(r.problem, /checkpoint 1 \(record 10\) does not match record 10/);
    });

    it('detects truncation of the tail up to the last checkpoint', async () => {
      const cp = await trail.checkpoint();
      await trail.record(rest(11));
      await trail.close();
      await tamper(t.dir, ['DELETE FROM audit_record WHERE seq >= 9']);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.match(r.problem, /covers (10|11) records but only 8 remain/);
      // Deleting the stored checkpoints too: the one the operator kept still catches it.
      await tamper(t.dir, ['DELETE FROM audit_checkpoint']);
      assert.equal((await verify(t.dir)).ok, true);
      const kept = await verify(t.dir, [cp]);
      assert.equal(kept.ok, false);
      assert.match(
        kept.problem,
        /kept checkpoint \(record 10\) covers 10 records but only 8 remain/,
      );
    });

    it('detects a forged checkpoint signature', async () => {
      await trail.close();
      await tamper(t.dir, [
        "UPDATE audit_checkpoint SET hash = replace(hash, substr(hash, 1, 1), 'x')",
      ]);
      const r = await verify(t.dir);
      assert.equal(r.ok, false);
      assert.match(r.problem, /invalid signature/);
    });

    it('hearth audit checkpoint prints a signed checkpoint and hearth audit verify accepts it when intact', async () => {
      await trail.close();
      const cp = await runGatewayCli(t.dir, ['--json', 'audit', 'checkpoint'], t.env);
      assert.equal(cp.error, undefined);
      const checkpoint = JSON.parse(cp.stdout) as { seq: number; signature: string };
      assert.equal(checkpoint.seq, 10);
      writeFileSync(path.join(t.dir, 'kept.json'), cp.stdout);
      const ok = await runGatewayCli(
        t.dir,
        ['--json', 'audit', 'verify', '--checkpoint', path.join(t.dir, 'kept.json')],
        t.env,
      );
      assert.equal(ok.error, undefined);
      assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
    });

    it('hearth audit verify exits 1 naming the first broken record', async () => {
      await trail.close();
      await tamper(t.dir, [
        'UPDATE audit_record SET event = replace(event, \'"R"\', \'"D"\') WHERE seq = 7',
      ]);
      const r = cli(t.dir, ['audit', 'verify']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /record 7/);
    });

    it('writes one AuditEvent per patient whose data was disclosed (BALP PatientQuery)', () => {
      const events = restAuditEvents({
        requestId: 'q',
        recorded: new Date(),
        site: SITE,
        interaction: 'search-type',
        action: 'R',
        status: 200,
        principal: undefined,
        clientIp: undefined,
        method: 'GET',
        url: 'Observation?code=x',
        isQuery: true,
        entities: ['Observation/1/_history/1', 'Observation/2/_history/1'],
        patients: ['a', 'b'],
        customHeaders: {},
      });
      assert.equal(events.length, 2);
      assert.deepEqual(
        events.map((e) => e.entity?.[0]?.what?.reference),
        ['Patient/a', 'Patient/b'],
      );
      const query = events[0]?.entity?.find((e) => e.role?.code === '24')?.query;
      assert.equal(Buffer.from(query ?? '', 'base64').toString('utf8'), 'Observation?code=x');
      const [first] = events;
      assert.ok(first);
      assert.equal(first.type.code, 'rest');
      assert.equal(first.subtype?.[0]?.code, 'search-type');
    });

    it("names only each patient's own resources in that patient's event when the file says whose they are (bulk download), and the rest in one event without a patient", () => {
      const events = restAuditEvents({
        requestId: 'd',
        recorded: new Date(),
        site: SITE,
        interaction: 'bulk-download',
        action: 'R',
        status: 200,
        principal: undefined,
        clientIp: undefined,
        method: 'GET',
        url: '_bulk-files/job/Observation-1.ndjson',
        isQuery: false,
        entities: ['Observation/1', 'Observation/2', 'Observation/3', 'Organization/9'],
        patients: ['a', 'b'],
        entitiesByPatient: new Map([
          ['a', ['Observation/1', 'Observation/3']],
          ['b', ['Observation/2']],
        ]),
        customHeaders: {},
      });
      const named = events.map((e) => ({
        patient: e.entity?.find((x) => x.role?.code === '1')?.what?.reference,
        resources: e.entity?.filter((x) => x.role?.code === '4').map((x) => x.what?.reference),
      }));
      assert.deepEqual(named, [
        { patient: 'Patient/a', resources: ['Observation/1', 'Observation/3'] },
        { patient: 'Patient/b', resources: ['Observation/2'] },
        { patient: undefined, resources: ['Organization/9'] },
      ]);
      for (const e of events)
        assert.ok(
          e.entity?.some((x) => x.what?.identifier?.value === 'd'),
          'request id kept',
        );
    });

    it('searches the trail by patient, entity, agent, action, outcome, subtype and date', async () => {
      await trail.record(
        authAuditEvent({ kind: 'login', success: false, site: SITE, sub: 'u2', reason: 'invalid' }),
      );
      await trail.record(
        adminAuditEvent({
          activity: 'import',
          action: 'C',
          success: true,
          site: SITE,
          what: ['Patient/p9'],
        }),
      );
      const q = async (refs: Record<string, string[][]>, date: string[] = []) =>
        (await trail.search({ count: 100, offset: 0, refs, date })).total;
      assert.equal(await q({ patient: [['Patient/p1']] }), 5);
      assert.equal(await q({ patient: [['Patient/p1', 'Patient/p2']] }), 10);
      assert.equal(await q({ entity: [['Observation/3']] }), 1);
      assert.equal(await q({ agent: [['Practitioner/9']] }), 10);
      assert.equal(await q({ action: [['R']], outcome: [['0']] }), 10);
      assert.equal(
        await q({
          subtype: [['http://dicom.nema.org/resources/ontology/DCM|110122']],
          outcome: [['4']],
        }),
        1,
      );
      assert.equal(await q({ type: [['110100']] }), 1);
      assert.equal(await q({}, ['ge2026-11-29T06:00:05Z', 'lt2026-11-29T06:00:08Z']), 3);
      assert.equal((await q({}, ['2026-11-29'])) >= 10, true);
    });

    it('records auth events (sign-in, consent, token issue, launch) in BALP/DICOM vocabulary', async () => {
      const events = new AuthEvents();
      auditAuthEvents(events, trail, SITE, silentLog);
      events.emit('signin.failure', { username: 'eve', address: '10.0.0.9', reason: 'invalid' });
      events.emit('consent.given', {
        userId: 'u1',
        clientId: 'app',
        scope: 'patient/*.rs',
        patient: 'p7',
      });
      events.emit('token.issued', {
        clientId: 'app',
        sub: 'u1',
        grantType: 'authorization_code',
        scope: 'patient/*.rs',
        jti: 'j1',
        patient: 'p7',
      });
      events.emit('launch.created', { userId: 'u1', clientId: 'app', patient: 'p7' });
      const q = async (refs: Record<string, string[][]>) =>
        (await trail.search({ count: 10, offset: 0, refs })).events;
      // Auth events are recorded without holding up the auth flow: wait until all four are stored
      // (on PostgreSQL one may land in the group commit after the one `record([])` waits for).
      for (let i = 0; i < 100; i++) {
        await trail.record([]);
        const stored =
          (await q({ patient: [['Patient/p7']] })).length +
          (await q({ type: [['110114']], outcome: [['4']] })).length;
        if (stored >= 4) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await q({ type: [['110114']], outcome: [['4']] })).length, 1);
      const forP7 = await q({ patient: [['Patient/p7']] });
      assert.deepEqual(forP7.map((e) => e.subtype?.[0]?.code).sort(), [
        'ITI-71',
        'consent',
        'ehr-launch',
      ]);
      assert.equal((await verify(t.dir)).ok, true);
    });

    it('keeps one chain when another writer (the admin CLI) appends to the same database', async () => {
      const cli = newTrail();
      await cli.record(
        adminAuditEvent({ activity: 'client-add', action: 'C', success: true, site: SITE }),
      );
      await trail.record(rest(50));
      await cli.record(
        adminAuditEvent({ activity: 'user-disable', action: 'U', success: true, site: SITE }),
      );
      await cli.close();
      await trail.record(rest(51));
      const r = await verify(t.dir);
      assert.equal(r.ok, true, r.ok ? '' : r.problem);
      assert.equal(r.records, 14);
    });

    it('keeps one chain, losing nothing, when two independent trails append concurrently', async () => {
      const other = newTrail({ maxBatch: 7, checkpointEvery: 25 });
      const burst = (tr: AuditTrail, base: number) =>
        Promise.all(Array.from({ length: 60 }, (_, i) => tr.record(rest(base + i))));
      for (let round = 0; round < 5; round++) {
        await Promise.all([burst(trail, 1000 + round * 100), burst(other, 5000 + round * 100)]);
      }
      await other.close();
      const r = await verify(t.dir);
      assert.equal(r.ok, true, r.ok ? '' : r.problem);
      assert.equal(r.records, 10 + 2 * 5 * 60);
      const ids = (await t.rows()).map((row) => (JSON.parse(row.event) as AuditEvent).entity);
      const requests = new Set(
        ids.flatMap((e) =>
          e?.filter((x) => x.role?.code === '20').map((x) => x.what?.identifier?.value),
        ),
      );
      assert.equal(requests.size, 10 + 2 * 5 * 60, 'every recorded request is in the chain once');
    });

    it('keeps one chain when three processes append at once, and hearth audit verify accepts it', async function () {
      this.timeout(60_000);
      const writer = (tag: string) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', 'test/gateway/support/audit-writer.ts'],
            {
              env: {
                ...process.env,
                TEST_DIR: t.dir,
                TEST_STORE_URL: t.storeUrl ?? '',
                TEST_TAG: tag,
                TEST_COUNT: '200',
              },
              stdio: ['ignore', 'ignore', 'inherit'],
            },
          );
          child.once('exit', (code) => {
            if (code === 0) resolve();
            else reject(new Error(`writer ${tag} exited with ${code}`));
          });
        });
      await Promise.all([writer('a'), writer('b'), writer('c')]);
      const r = await verify(t.dir);
      assert.equal(r.ok, true, r.ok ? '' : r.problem);
      assert.equal(r.records, 10 + 3 * 200);
      assert.ok(r.checkpoints >= 3, 'each writer signed the chain it saw (a shared key)');
      const out = cli(t.dir, ['--json', 'audit', 'verify']);
      assert.equal(out.status, 0, out.stderr);
      assert.equal((JSON.parse(out.stdout) as { records: number }).records, 610);
    });
  });
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent } from '@medplum/fhirtypes';
import { AuthEvents } from '../../auth/index.js';
import { openAuditDb } from '../../gateway/audit/audit-db.js';
import { auditAuthEvents } from '../../gateway/audit/auth-events.js';
import { adminAuditEvent, authAuditEvent, restAuditEvents } from '../../gateway/audit/events.js';
import { AUDIT_DB_FILE, AuditTrail } from '../../gateway/audit/trail.js';
import { verifyAudit } from '../../gateway/audit/verify.js';
import { runGatewayCli } from './support/run-cli.js';
import { silentLog, tempDir } from './support/temp.js';

const SITE = 'http://localhost:8080/fhir';

function rest(i: number, patients: string[] = []): AuditEvent[] {
  return restAuditEvents({
    requestId: `r${i}`,
    recorded: new Date(Date.UTC(2026, 10, 29, 6, 0, i)),
    site: SITE,
    interaction: 'read',
    action: 'R',
    status: 200,
    principal: {
      sub: 'u1',
      clientId: 'app',
      fhirUser: 'Practitioner/9',
      patient: undefined,
      scopes: [],
      roles: [],
      exp: 0,
      claims: {},
    },
    clientIp: '127.0.0.1',
    method: 'GET',
    url: `Observation/${i}`,
    isQuery: false,
    entities: [`Observation/${i}/_history/1`],
    patients,
    customHeaders: {},
  });
}

/** Opens the audit DB as an attacker would: raw SQLite, append-only triggers dropped. */
function tamper(dir: string, sql: string[]): void {
  const db = new Database(path.join(dir, AUDIT_DB_FILE));
  db.exec(
    'DROP TRIGGER IF EXISTS audit_record_no_update; DROP TRIGGER IF EXISTS audit_record_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_update;',
  );
  for (const s of sql) db.exec(s);
  db.close();
}

function verify(dir: string, kept: unknown[] = []) {
  const db = openAuditDb(path.join(dir, AUDIT_DB_FILE), 'normal', true);
  try {
    return verifyAudit(db, kept as never[]);
  } finally {
    db.close();
  }
}

function cli(dir: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { ...process.env, DATA_DIR: dir },
    encoding: 'utf8',
  });
}

describe('gateway audit trail', () => {
  let t: ReturnType<typeof tempDir>;
  let trail: AuditTrail;
  beforeEach(async () => {
    t = tempDir();
    trail = new AuditTrail({
      dataDir: t.dir,
      sync: 'normal',
      log: silentLog,
      ndjson: path.join(t.dir, 'audit.ndjson'),
    });
    for (let i = 1; i <= 10; i++) await trail.record(rest(i, i % 2 === 0 ? ['p1'] : ['p2']));
  });
  afterEach(async () => {
    await trail.close();
    t.cleanup();
  });

  it('verifies an untouched chain', () => {
    const r = verify(t.dir);
    assert.equal(r.ok, true);
    assert.equal(r.records, 10);
  });

  it('commits everything recorded in one event-loop turn together and in order', async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => trail.record(rest(100 + i))));
    const r = verify(t.dir);
    assert.equal(r.ok, true);
    assert.equal(r.records, 310);
    assert.equal(trail.queueDepth(), 0);
  });

  it('streams committed records to AUDIT_NDJSON', () => {
    const lines = readFileSync(path.join(t.dir, 'audit.ndjson'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 10);
    assert.equal((JSON.parse(lines[0] ?? '{}') as AuditEvent).resourceType, 'AuditEvent');
  });

  it('refuses UPDATE and DELETE on records through the database itself', () => {
    const db = new Database(path.join(t.dir, AUDIT_DB_FILE));
    assert.throws(
      () => db.exec("UPDATE audit_record SET event = '{}' WHERE seq = 3"),
      /append-only/,
    );
    assert.throws(() => db.exec('DELETE FROM audit_record WHERE seq = 3'), /append-only/);
    db.close();
  });

  it('detects an edited record and names it', async () => {
    await trail.close();
    tamper(t.dir, [
      "UPDATE audit_record SET event = replace(event, 'Observation/4', 'Observation/999') WHERE seq = 4",
    ]);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.equal(r.seq, 4);
  });

  it('detects a deleted record and names it', async () => {
    await trail.close();
    tamper(t.dir, ['DELETE FROM audit_record WHERE seq = 6']);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.match(r.problem, /record 6 is missing/);
  });

  it('detects reordered records', async () => {
    await trail.close();
    tamper(t.dir, [
      'UPDATE audit_record SET seq = -1 WHERE seq = 3',
      'UPDATE audit_record SET seq = 3 WHERE seq = 4',
      'UPDATE audit_record SET seq = 4 WHERE seq = -1',
    ]);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.equal(r.seq, 3);
  });

  it('detects a rewritten chain through the signed checkpoint', async () => {
    await trail.close(); // writes a checkpoint over records 1–10
    const db = new Database(path.join(t.dir, AUDIT_DB_FILE));
    const rows = db
      .prepare<[], { seq: number; event: string }>(
        'SELECT seq, event FROM audit_record ORDER BY seq',
      )
      .all();
    db.close();
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
    tamper(t.dir, sql);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.match(r.problem, /checkpoint 1 \(record 10\) does not match record 10/);
  });

  it('detects truncation of the tail up to the last checkpoint', async () => {
    const cp = trail.checkpoint();
    await trail.record(rest(11));
    await trail.close();
    tamper(t.dir, ['DELETE FROM audit_record WHERE seq >= 9']);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.match(r.problem, /covers (10|11) records but only 8 remain/);
    // Deleting the stored checkpoints too: the one the operator kept still catches it.
    tamper(t.dir, ['DELETE FROM audit_checkpoint']);
    assert.equal(verify(t.dir).ok, true);
    const kept = verify(t.dir, [cp]);
    assert.equal(kept.ok, false);
    assert.match(kept.problem, /kept checkpoint \(record 10\) covers 10 records but only 8 remain/);
  });

  it('detects a forged checkpoint signature', async () => {
    await trail.close();
    tamper(t.dir, ["UPDATE audit_checkpoint SET hash = replace(hash, substr(hash, 1, 1), 'x')"]);
    const r = verify(t.dir);
    assert.equal(r.ok, false);
    assert.match(r.problem, /invalid signature/);
  });

  it('hearth audit checkpoint prints a signed checkpoint and hearth audit verify accepts it when intact', async () => {
    await trail.close();
    const cp = await runGatewayCli(t.dir, ['--json', 'audit', 'checkpoint']);
    assert.equal(cp.error, undefined);
    const checkpoint = JSON.parse(cp.stdout) as { seq: number; signature: string };
    assert.equal(checkpoint.seq, 10);
    writeFileSync(path.join(t.dir, 'kept.json'), cp.stdout);
    const ok = await runGatewayCli(t.dir, [
      '--json',
      'audit',
      'verify',
      '--checkpoint',
      path.join(t.dir, 'kept.json'),
    ]);
    assert.equal(ok.error, undefined);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
  });

  it('hearth audit verify exits 1 naming the first broken record', async () => {
    await trail.close();
    tamper(t.dir, [
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
    const q = (refs: Record<string, string[][]>, date: string[] = []) =>
      trail.search({ count: 100, offset: 0, refs, date }).total;
    assert.equal(q({ patient: [['Patient/p1']] }), 5);
    assert.equal(q({ patient: [['Patient/p1', 'Patient/p2']] }), 10);
    assert.equal(q({ entity: [['Observation/3']] }), 1);
    assert.equal(q({ agent: [['Practitioner/9']] }), 10);
    assert.equal(q({ action: [['R']], outcome: [['0']] }), 10);
    assert.equal(
      q({ subtype: [['http://dicom.nema.org/resources/ontology/DCM|110122']], outcome: [['4']] }),
      1,
    );
    assert.equal(q({ type: [['110100']] }), 1);
    assert.equal(q({}, ['ge2026-11-29T06:00:05Z', 'lt2026-11-29T06:00:08Z']), 3);
    assert.equal(q({}, ['2026-11-29']) >= 10, true);
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
    await new Promise((r) => setImmediate(r));
    await trail.record([]);
    const q = (refs: Record<string, string[][]>) =>
      trail.search({ count: 10, offset: 0, refs }).events;
    assert.equal(q({ type: [['110114']], outcome: [['4']] }).length, 1);
    const forP7 = q({ patient: [['Patient/p7']] });
    assert.deepEqual(forP7.map((e) => e.subtype?.[0]?.code).sort(), [
      'ITI-71',
      'consent',
      'ehr-launch',
    ]);
    assert.equal(verify(t.dir).ok, true);
  });

  it('keeps one chain when another writer (the admin CLI) appends to the same database', async () => {
    const cli = new AuditTrail({ dataDir: t.dir, sync: 'normal', log: silentLog });
    await cli.record(
      adminAuditEvent({ activity: 'client-add', action: 'C', success: true, site: SITE }),
    );
    await trail.record(rest(50));
    await cli.record(
      adminAuditEvent({ activity: 'user-disable', action: 'U', success: true, site: SITE }),
    );
    await cli.close();
    await trail.record(rest(51));
    const r = verify(t.dir);
    assert.equal(r.ok, true, r.ok ? '' : r.problem);
    assert.equal(r.records, 14);
  });
});

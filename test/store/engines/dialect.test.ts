import assert from 'node:assert/strict';
import { dialectOf, type Engine } from '../../../store/engines/index.js';
import { testEngines, type TestDatabase } from '../../support/engines.js';

for (const e of testEngines) {
  describe(`dialect (${e.name})`, () => {
    let db: TestDatabase;
    let engine: Engine;
    const d = dialectOf(e.name);

    beforeEach(async () => {
      db = e.open();
      engine = db.engine;
      const t = d.types;
      const ddl = [
        `CREATE TABLE word (rid ${t.key}, norm ${t.bytewiseText} NOT NULL, n ${t.int}, r ${t.real}, b ${t.blob}, deleted ${t.int} NOT NULL DEFAULT 0)`,
        'CREATE INDEX word_norm ON word (norm) WHERE deleted = 0',
        d.containsIndex('word_trgm', 'word', 'norm'),
      ];
      await engine.migrate(ddl.filter((s): s is string => s !== undefined));
      const words = ['smith', 'smithers', 'smi_th', 'sm%th', 'blacksmith', 'Smith', 'sm\\ith'];
      await engine.transaction(async (tx) => {
        for (const w of words) await tx.run('INSERT INTO word (norm) VALUES (?)', [w]);
      });
    });
    afterEach(() => db.cleanup());

    const match = async (f: { sql: string; params: string[] }) =>
      (
        await engine.all<{ norm: string }>(
          `SELECT norm FROM word WHERE deleted = 0 AND ${f.sql} ORDER BY norm`,
          f.params,
        )
      ).map((r) => r.norm);

    it('matches a prefix case-sensitively, with LIKE wildcards taken literally', async () => {
      assert.deepEqual(await match(d.startsWith('norm', 'smith')), ['smith', 'smithers']);
      assert.deepEqual(await match(d.startsWith('norm', 'smi_')), ['smi_th']);
      assert.deepEqual(await match(d.startsWith('norm', 'sm%')), ['sm%th']);
      assert.deepEqual(await match(d.startsWith('norm', 'sm\\')), ['sm\\ith']);
    });

    it('matches a substring case-sensitively, with LIKE wildcards taken literally', async () => {
      assert.deepEqual(await match(d.contains('norm', 'mith')), [
        'Smith',
        'blacksmith',
        'smith',
        'smithers',
      ]);
      assert.deepEqual(await match(d.contains('norm', '_')), ['smi_th']);
      assert.deepEqual(await match(d.contains('norm', 'ksmi')), ['blacksmith']);
      assert.deepEqual(await match(d.contains('norm', 'Smi')), ['Smith']);
    });

    it('assigns keys, returns them with RETURNING and upserts with ON CONFLICT', async () => {
      const row = await engine.transaction((tx) =>
        tx.get<{ rid: number }>('INSERT INTO word (norm, n) VALUES (?, ?) RETURNING rid', ['x', 1]),
      );
      assert.equal(typeof row?.rid, 'number');
      await engine.transaction((tx) =>
        tx.run(
          'INSERT INTO word (rid, norm, n) VALUES (?, ?, ?) ON CONFLICT (rid) DO UPDATE SET n = excluded.n',
          [row?.rid ?? 0, 'x', 2],
        ),
      );
      const after = await engine.get<{ n: number }>('SELECT n FROM word WHERE rid = ?', [
        row?.rid ?? 0,
      ]);
      assert.equal(after?.n, 2);
    });

    it('aggregates strings with the dialect function', async () => {
      const row = await engine.get<{ s: string }>(
        `SELECT ${d.stringAgg('norm', "','")} AS s FROM word WHERE norm IN ('smith', 'smithers')`,
      );
      assert.deepEqual(row?.s.split(',').sort(), ['smith', 'smithers']);
    });

    if (e.name === 'postgres') {
      const plan = (f: { sql: string; params: string[] }, where = 'TRUE') =>
        engine.transaction(async (tx) => {
          await tx.run('SET LOCAL enable_seqscan = off');
          const rows = await tx.all<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT norm FROM word WHERE ${where} AND ${f.sql}`,
            f.params,
          );
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        });

      it('answers contains from the trigram index', async () => {
        assert.match(await plan(d.contains('norm', 'mith')), /word_trgm/);
      });

      it('answers a prefix from the partial btree index on the byte-wise column', async () => {
        assert.match(await plan(d.startsWith('norm', 'smi'), 'deleted = 0'), /Index.*word_norm/);
      });
    }
  });
}

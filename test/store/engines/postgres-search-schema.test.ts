import assert from 'node:assert/strict';
import { openPostgresEngine, type PostgresEngine } from '../../../store/engines/postgres/index.js';
import { storeSchema } from '../../../store/repo/schema.js';
import { searchSchema } from '../../../store/search/index.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';

describe('search schema on PostgreSQL', () => {
  let target: TestSchema;
  let engine: PostgresEngine;

  before(async () => {
    target = freshSchema();
    engine = openPostgresEngine({ url: target.url });
    // the search schema indexes the store's resource table too (the walk of a type in row id order)
    await engine.migrate([...storeSchema('postgres'), ...searchSchema('postgres')]);
  });
  after(async () => {
    await engine.close();
    await target.drop();
  });

  it('declares its text columns byte-wise (COLLATE "C"), whatever the database locale', async () => {
    const cols = await engine.all<{ c: string; collation: string | null }>(
      `SELECT table_name || '.' || column_name AS c, collation_name AS collation
         FROM information_schema.columns
        WHERE table_schema = ? AND data_type = 'text'
          AND table_name NOT IN ('hearth_migration', 'resource', 'history') ORDER BY 1`,
      [target.schema],
    );
    assert.ok(cols.length > 20);
    assert.deepEqual(
      cols.filter((c) => c.collation !== 'C').map((c) => c.c),
      [],
    );
  });

  it('answers a string prefix from the (sp, norm) index and :contains from a trigram index', async () => {
    const plan = (sql: string, params: string[]) =>
      engine.transaction(async (tx) => {
        await tx.run('SET LOCAL enable_seqscan = off');
        const rows = await tx.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    assert.match(
      await plan('SELECT rid FROM sp_string WHERE sp = ? AND norm >= ? AND norm < ?', [
        'Patient.name',
        'mul',
        'mul\uffff',
      ]),
      /sp_string_v/,
    );
    assert.match(
      await plan("SELECT rid FROM sp_string WHERE norm LIKE ? ESCAPE '\\'", ['%ari%']),
      /sp_string_trgm/,
    );
  });

  it('uses bigint keys for rid and dates', async () => {
    const cols = await engine.all<{ c: string }>(
      `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
        WHERE table_schema = ? AND column_name IN ('rid', 'lo', 'hi') AND table_name <> 'sp_quantity'
          AND table_name <> 'sp_number' AND data_type <> 'bigint'`,
      [target.schema],
    );
    assert.deepEqual(cols, []);
  });
});

import assert from 'node:assert/strict';
import { loadConfig } from '../../../common/config.js';
import { openEngine } from '../../../store/engines/index.js';
import { freshSchema } from '../../support/postgres.js';

describe('openEngine', () => {
  it('opens the PostgreSQL engine in the URL schema for STORE_URL=postgres://…', async () => {
    const target = freshSchema();
    const engine = openEngine(loadConfig({ STORE_URL: target.url, DATA_DIR: '/nonexistent' }));
    try {
      assert.equal(engine.dialect, 'postgres');
      await engine.migrate(['CREATE TABLE opened (x INTEGER)']);
      await engine.transaction((tx) => tx.run('INSERT INTO opened (x) VALUES (?)', [1]));
      const row = await engine.get<{ schema: string }>(
        "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'opened'",
      );
      assert.equal(row?.schema, target.schema);
    } finally {
      await engine.close();
      await target.drop();
    }
  });

  it('rejects a postgres:// URL naming an unusable schema', () => {
    assert.throws(
      () => openEngine(loadConfig({ STORE_URL: 'postgres://u@127.0.0.1/db?schema=Bad-Name' })),
      /schema name/,
    );
  });
});

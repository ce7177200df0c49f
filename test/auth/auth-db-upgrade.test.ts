import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { createAuth, openAdmin } from '../../auth/index.js';

describe('an auth.db made by an earlier Hearth', function () {
  this.timeout(30_000);

  it('keeps working: accounts sign in, and the change log gains its emitted flag', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-upgrade-'));
    try {
      const config = loadConfig(
        { DATA_DIR: dataDir, LOG_LEVEL: 'silent', SQLITE_SYNC: 'normal' },
        dataDir,
      );
      // The change log as earlier versions created it (no `emitted` column), with one entry.
      const old = new Database(path.join(dataDir, 'auth.db'));
      old.exec(`CREATE TABLE admin_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL,
        subject TEXT NOT NULL, change TEXT NOT NULL)`);
      old
        .prepare(
          "INSERT INTO admin_changes (at, kind, subject, change) VALUES (1, 'account', 'x', 'added')",
        )
        .run();
      old.close();

      const admin = await openAdmin(config);
      try {
        await admin.users.add({
          username: 'old-timer',
          password: 'correct horse battery',
          roles: [],
        });
        const rows = await admin.sql.all<{ subject: string; emitted: number }>(
          'SELECT subject, emitted FROM admin_changes ORDER BY id',
        );
        assert.deepEqual(rows, [
          { subject: 'x', emitted: 1 },
          { subject: 'old-timer', emitted: 0 },
        ]);
      } finally {
        await admin.close();
      }
      const auth = await createAuth({ config, log: createLogger('silent', 'test') });
      try {
        const r = await auth.verifyPassword('old-timer', 'correct horse battery', '127.0.0.1');
        assert.equal(r.ok, true);
      } finally {
        await auth.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../../common/config.js';

export const silentLog = pino({ level: 'silent' });

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-gw-'));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testConfig(dataDir: string, extra: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: dataDir, PORT: '8080', SQLITE_SYNC: 'normal', ...extra });
}

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { measureBulk, type BulkBenchResult } from './bulk.js';
import { startHearthProcess } from './hearth-process.js';
import type { BenchOptions } from './options.js';
import { postgresSchema } from './postgres-schema.js';
import { backendServices } from './tokens.js';

const BULK_SCOPE = 'system/*.cruds';
const BULK_ROLES = ['fhir-data-exporter', 'fhir-data-importer', 'fhir-data-writer'];

/**
 * Bulk Data rates: a whole-system `$export` of the loaded Hearth, then `$import` (InitialLoad) of
 * that export into an empty Hearth on the same engine, both through the real HTTP path.
 */
export async function bulkRates(
  engine: 'sqlite' | 'postgres',
  env: Record<string, string>,
  x: { o: BenchOptions; ports: [number, number] },
  log: Logger,
): Promise<BulkBenchResult> {
  process.stderr.write(`bench[${engine}]: bulk export and import\n`);
  const [portA, portB] = x.ports;
  const dataDirC = await mkdtemp(path.join(os.tmpdir(), `hearth-bench-${engine}-import-`));
  const pgC = engine === 'postgres' ? await postgresSchema(x.o.postgresUrl) : undefined;
  const envC: Record<string, string> = {
    ...env,
    PUBLIC_URL: `http://127.0.0.1:${portB}`,
    DATA_DIR: dataDirC,
    IMPORT_DIR: path.join(dataDirC, 'import'),
    ...(pgC === undefined ? {} : { STORE_URL: pgC.storeUrl }),
  };
  const importDir = env.IMPORT_DIR ?? '';
  await mkdir(importDir, { recursive: true });
  await mkdir(envC.IMPORT_DIR ?? '', { recursive: true });
  const a = await startHearthProcess('main', env, portA, log);
  try {
    const c = await startHearthProcess('main', envC, portB, log);
    try {
      const tokenA = await backendServices(a.listenUrl, env, BULK_SCOPE, BULK_ROLES);
      const tokenC = await backendServices(c.listenUrl, envC, BULK_SCOPE, BULK_ROLES);
      return await measureBulk({
        source: { fhirBase: `${a.listenUrl}/fhir`, token: tokenA, importDir },
        importInto: {
          fhirBase: `${c.listenUrl}/fhir`,
          token: tokenC,
          importDir: envC.IMPORT_DIR ?? '',
        },
      });
    } finally {
      await c.stop();
    }
  } finally {
    await a.stop();
    await rm(dataDirC, { recursive: true, force: true });
    await pgC?.drop().catch(() => undefined);
  }
}

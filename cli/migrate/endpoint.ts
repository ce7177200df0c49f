import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.js';
import { CliError } from '../output.js';

/** One side of `hearth migrate`: a Hearth deployment's data, on one engine. */
export interface MigrateEndpoint {
  engine: 'sqlite' | 'postgres';
  /** For messages: the argument with any password masked. */
  label: string;
  /**
   * The configuration of this side: the running one with `storeUrl` (and, for SQLite, `dataDir`:
   * the directory holding fhir.db, audit.db and the auth state) replaced.
   */
  config: Config;
}

/** The store file a SQLite DATA_DIR holds. */
export const STORE_FILE = 'fhir.db';

function masked(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password !== '') copy.password = '***';
  return copy.toString();
}

/**
 * Reads `--from` / `--to`: `sqlite:<DATA_DIR>` (a directory: its fhir.db, audit.db, keys) or
 * `sqlite:<file>.db` (the store file; its directory is the DATA_DIR), or `postgres://…[?schema=]`
 * (the store in `schema`, default `hearth`; the audit trail in `<schema>_audit`).
 */
export function parseEndpoint(arg: string, base: Config, cwd = process.cwd()): MigrateEndpoint {
  if (arg.startsWith('sqlite:')) {
    const given = path.resolve(cwd, arg.slice('sqlite:'.length));
    if (given === cwd && arg.length === 'sqlite:'.length) {
      throw new CliError('sqlite: needs a DATA_DIR or a .db file, e.g. sqlite:./data');
    }
    const isDir = existsSync(given) ? statSync(given).isDirectory() : !given.endsWith('.db');
    const dataDir = isDir ? given : path.dirname(given);
    const file = isDir ? path.join(given, STORE_FILE) : given;
    return {
      engine: 'sqlite',
      label: `sqlite:${file}`,
      config: Object.freeze({ ...base, dataDir, storeUrl: `sqlite:${file}` }),
    };
  }
  if (/^postgres(ql)?:\/\//.test(arg)) {
    let url: URL;
    try {
      url = new URL(arg);
    } catch {
      throw new CliError(`not a valid postgres:// URL: ${arg}`);
    }
    return {
      engine: 'postgres',
      label: masked(url),
      config: Object.freeze({ ...base, storeUrl: arg }),
    };
  }
  throw new CliError(`${arg}: expected sqlite:<DATA_DIR or file> or postgres://…`);
}

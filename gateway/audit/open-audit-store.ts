import type { SqliteSync } from '../../common/config.js';
import type { AuditStore } from './audit-store.js';
import { openPostgresAuditStore } from './postgres-audit-store.js';
import { isPostgresUrl } from './postgres-target.js';
import { openSqliteAuditStore } from './sqlite-audit-store.js';

export interface OpenAuditStoreOptions {
  dataDir: string;
  sync: SqliteSync;
  /** STORE_URL: `postgres://…` puts the trail in PostgreSQL; anything else keeps it in DATA_DIR. */
  storeUrl?: string | undefined;
  /** SQLite: open an existing database read-only (verify). */
  readonly?: boolean;
  /** Appends on a writer thread (see openSqliteAuditStore, openPostgresAuditStore). */
  appendThread?: boolean;
  /** Writer thread: send each record's text back (AUDIT_NDJSON needs them; default true). */
  threadLines?: boolean;
  onIdleError?: (err: Error) => void;
}

/**
 * The audit store a deployment uses: PostgreSQL (schema `<store schema>_audit`) when STORE_URL is
 * `postgres://…`, else `DATA_DIR/audit.db`.
 */
export function openAuditStore(opts: OpenAuditStoreOptions): AuditStore {
  if (opts.storeUrl !== undefined && isPostgresUrl(opts.storeUrl)) {
    return openPostgresAuditStore({
      storeUrl: opts.storeUrl,
      ...(opts.onIdleError === undefined ? {} : { onIdleError: opts.onIdleError }),
      ...(opts.appendThread === undefined ? {} : { appendThread: opts.appendThread }),
      ...(opts.threadLines === undefined ? {} : { threadLines: opts.threadLines }),
    });
  }
  return openSqliteAuditStore({
    dataDir: opts.dataDir,
    sync: opts.sync,
    ...(opts.readonly === undefined ? {} : { readonly: opts.readonly }),
    ...(opts.appendThread === undefined ? {} : { appendThread: opts.appendThread }),
    ...(opts.threadLines === undefined ? {} : { threadLines: opts.threadLines }),
  });
}

import { parentPort, workerData } from 'node:worker_threads';
import { serveAppends } from './append-worker-loop.js';
import { openPostgresAuditStore } from './postgres-audit-store.js';
import type { CheckpointKey } from './signing-key.js';

/**
 * The PostgreSQL audit writer thread (started by `AppendThread` for postgres-audit-store.ts): it
 * chains each group commit (the AuditEvents, their canonical JSON, hashes and search rows) and
 * sends it on a connection of its own, so neither that work nor the driver's encoding of the batch
 * runs on the gateway's event loop.
 */
export interface PostgresAppendWorkerData {
  /** STORE_URL (the trail is in `<schema>_audit`). */
  storeUrl: string;
  /** Send each record's text back (AppendResult.lines), else an empty list. */
  lines: boolean;
}

if (parentPort === null) throw new Error('postgres-append-worker runs as a worker thread');
const { storeUrl, lines } = workerData as PostgresAppendWorkerData;
// One connection: this thread's appends run one after the other.
const store = openPostgresAuditStore({ storeUrl, poolSize: 1 });
let key: CheckpointKey | undefined;
serveAppends(
  parentPort,
  {
    appendGroups: async (groups, sign) => {
      if (sign) key ??= await store.signingKey(false);
      if (sign && key === undefined) throw new Error('audit signing key missing');
      return store.appendGroups(groups, sign ? key : undefined);
    },
    close: () => store.close(),
  },
  lines,
);

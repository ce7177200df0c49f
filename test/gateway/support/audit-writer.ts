/**
 * One audit-writing process for the multi-process chain test: appends TEST_COUNT events (in
 * bursts, so group commits of several records interleave with the other processes') to the trail
 * of TEST_DIR / TEST_STORE_URL, closes it (final checkpoint) and exits 0.
 */
import { adminAuditEvent } from '../../../gateway/audit/events.js';
import { AuditTrail } from '../../../gateway/audit/trail.js';
import { silentLog } from './temp.js';

const dir = process.env.TEST_DIR ?? '';
const storeUrl = process.env.TEST_STORE_URL === '' ? undefined : process.env.TEST_STORE_URL;
const tag = process.env.TEST_TAG ?? 'w';
const count = Number(process.env.TEST_COUNT ?? '100');
const trail = new AuditTrail({ dataDir: dir, sync: 'normal', log: silentLog, storeUrl });
await trail.ready();
for (let done = 0; done < count;) {
  const n = Math.min(count - done, 1 + (done % 13));
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      trail.record(
        adminAuditEvent({
          activity: 'writer',
          action: 'C',
          success: true,
          site: 'http://localhost/fhir',
          what: [`${tag}-${done + i}`],
        }),
      ),
    ),
  );
  done += n;
}
await trail.close();

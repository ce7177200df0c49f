/**
 * A gateway process for the kill -9 test: mini FHIR store on a Unix socket behind the gateway on
 * an ephemeral TCP port. Prints `PORT <n>` when ready. Keys arrive in TEST_JWK (public JWK JSON).
 */
import http from 'node:http';
import path from 'node:path';
import { createLocalJWKSet, type JWK } from 'jose';
import { AuditTrail } from '../../../gateway/audit/trail.js';
import { createGateway } from '../../../gateway/create-gateway.js';
import { startMiniFhir } from './mini-fhir.js';
import { silentLog, testConfig } from './temp.js';

const dir = process.env.TEST_DIR ?? '';
const jwk = JSON.parse(process.env.TEST_JWK ?? '{}') as JWK;
const fhir = await startMiniFhir({ socketPath: path.join(dir, 'store.sock'), secret: 's' });
fhir.put({ resourceType: 'Patient', id: '123' });
const storeUrl = process.env.TEST_STORE_URL === '' ? undefined : process.env.TEST_STORE_URL;
const trail = new AuditTrail({ dataDir: dir, sync: 'full', log: silentLog, storeUrl });
await trail.ready();
const gw = createGateway({
  config: testConfig(dir, { SQLITE_SYNC: 'full' }),
  log: silentLog,
  auth: {
    getKey: createLocalJWKSet({ keys: [jwk] }),
    isTokenAlive: () => true,
    smartConfiguration: () => ({}),
  },
  upstream: { socketPath: fhir.socketPath, isBuiltInStore: true, internalSecret: 's' },
  audit: trail,
  rateLimit: false,
  defaultMetrics: false,
});
const handler = gw.app.callback();
const server = http.createServer((req, res) => {
  void handler(req, res);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../common/config.js';

describe('config', () => {
  it('applies the contract defaults to an empty environment', () => {
    const c = loadConfig({}, '/srv/hearth');
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.publicUrl, 'http://localhost:8080');
    assert.equal(c.fhirBaseUrl, 'http://localhost:8080/fhir');
    assert.equal(c.issuer, 'http://localhost:8080/auth');
    assert.equal(c.dataDir, path.resolve('/srv/hearth', 'data'));
    assert.equal(c.storeUrl, `sqlite:${path.resolve('/srv/hearth', 'data', 'fhir.db')}`);
    assert.equal(c.sqliteSync, 'full');
    assert.equal(c.bundleMaxEntries, 500);
    assert.equal(c.searchDefaultCount, 20);
    assert.equal(c.searchMaxCount, 1000);
    assert.equal(c.conditionalDeleteMax, 100);
    assert.equal(c.maxBodyBytes, 10485760);
    assert.equal(c.workers, 1);
    assert.equal(c.trustProxy, false);
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash from an explicit one', () => {
    assert.equal(loadConfig({ PORT: '9000' }).publicUrl, 'http://localhost:9000');
    assert.equal(
      loadConfig({ PUBLIC_URL: 'https://fhir.example.org/' }).fhirBaseUrl,
      'https://fhir.example.org/fhir',
    );
  });

  it('is frozen', () => {
    const c = loadConfig({});
    assert.throws(() => {
      (c as { port: number }).port = 1;
    }, TypeError);
  });

  it('rejects bad values naming the variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty' }),
      (e: unknown) => {
        return e instanceof ConfigError && e.message.includes('PORT');
      },
    );
    assert.throws(() => loadConfig({ SQLITE_SYNC: 'off' }), /SQLITE_SYNC/);
    assert.throws(() => loadConfig({ FHIR_UPSTREAM: 'not a url' }), /FHIR_UPSTREAM/);
    assert.throws(() => loadConfig({ STORE_URL: 'mysql://x' }), /STORE_URL/);
    assert.throws(
      () => loadConfig({ SEARCH_DEFAULT_COUNT: '50', SEARCH_MAX_COUNT: '10' }),
      /SEARCH_DEFAULT_COUNT/,
    );
  });

  it('reads boolean flags', () => {
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, true);
    assert.equal(loadConfig({ ALLOW_LOOPBACK_JWKS: '0' }).allowLoopbackJwks, false);
  });
});

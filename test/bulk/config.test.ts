import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../common/config.js';

/** The bulk settings added for the export bucket and the per-client job limit. */
describe('bulk configuration (bucket, per-client limit)', () => {
  it('has no bucket and a per-client limit of 4 by default', () => {
    const c = loadConfig({});
    assert.equal(c.exportS3, undefined);
    assert.equal(c.bulkMaxJobsPerClient, 4);
  });

  it('reads the bucket settings, path-style on by default with an endpoint', () => {
    const c = loadConfig({
      EXPORT_S3_BUCKET: 'hearth-exports',
      EXPORT_S3_ENDPOINT: 'http://127.0.0.1:9000',
      EXPORT_S3_PREFIX: 'prod/bulk/',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      BULK_MAX_JOBS_PER_CLIENT: '1',
    });
    assert.deepEqual(c.exportS3, {
      bucket: 'hearth-exports',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      prefix: 'prod/bulk/',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    assert.equal(c.bulkMaxJobsPerClient, 1);
  });

  it('leaves AWS S3 virtual-hosted addressing and the default credential chain when not set', () => {
    const s3 = loadConfig({
      EXPORT_S3_BUCKET: 'hearth-exports',
      EXPORT_S3_REGION: 'eu-west-1',
    }).exportS3;
    assert.ok(s3 !== undefined);
    assert.equal(s3.forcePathStyle, false);
    assert.equal(s3.endpoint, undefined);
    assert.equal(s3.credentials, undefined);
    assert.equal(s3.region, 'eu-west-1');
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['a bucket name that S3 refuses', { EXPORT_S3_BUCKET: 'No_Such' }, /EXPORT_S3_BUCKET/],
    ['a prefix without a trailing slash', { EXPORT_S3_PREFIX: 'bulk' }, /EXPORT_S3_PREFIX/],
    ['an endpoint that is not a URL', { EXPORT_S3_ENDPOINT: 'minio' }, /EXPORT_S3_ENDPOINT/],
    ['a per-client limit of 0', { BULK_MAX_JOBS_PER_CLIENT: '0' }, /BULK_MAX_JOBS_PER_CLIENT/],
    [
      'a key id without its secret',
      { EXPORT_S3_BUCKET: 'hearth-exports', AWS_ACCESS_KEY_ID: 'id' },
      /AWS_SECRET_ACCESS_KEY/,
    ],
  ];
  for (const [name, env, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});

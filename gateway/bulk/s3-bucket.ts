import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BulkS3Config } from '../../common/config.js';
import type { Bucket, BucketUpload } from './bucket.js';

/** The Bucket over the AWS SDK v3: any S3-compatible server (AWS, MinIO, Ceph, s3rver…). */

/** 5 MiB parts, one in flight while the next fills behind a 5 MiB stream buffer: ~15 MiB per upload. */
const PART_SIZE = 5 * 1024 * 1024;

function notFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey')
  );
}

function startUpload(client: S3Client, bucket: string, key: string, type: string): BucketUpload {
  const body = new PassThrough({ highWaterMark: PART_SIZE });
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: type },
    partSize: PART_SIZE,
    queueSize: 1,
    leavePartsOnError: false,
  });
  const done = upload.done();
  // Surfaces through finish(); until then a failure shows up as a destroyed stream on write().
  done.catch(() => body.destroy());
  return {
    async write(text) {
      if (body.destroyed) await done;
      if (!body.write(text)) await once(body, 'drain');
    },
    async finish() {
      body.end();
      await done;
    },
    async abort() {
      await upload.abort().catch(() => undefined);
      body.destroy();
      await done.catch(() => undefined);
    },
  };
}

export function openS3Bucket(c: BulkS3Config): Bucket {
  const client = new S3Client({
    region: c.region,
    forcePathStyle: c.forcePathStyle,
    ...(c.endpoint === undefined ? {} : { endpoint: c.endpoint }),
    ...(c.credentials === undefined ? {} : { credentials: c.credentials }),
    // Plain payload signing: what every S3-compatible server understands.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = c.bucket;
  return {
    name: c.bucket,
    key: (jobId, file) => `${c.prefix}${jobId}/${file}`,
    upload: (key, type) => Promise.resolve(startUpload(client, Bucket, key, type)),
    async size(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return head.ContentLength ?? 0;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    async read(key, range) {
      const res = await client.send(
        new GetObjectCommand({
          Bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      if (res.Body === undefined) throw new Error(`the bucket sent no body for ${key}`);
      return res.Body as Readable;
    },
    async removeJob(jobId) {
      const Prefix = `${c.prefix}${jobId}/`;
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix,
            ...(ContinuationToken === undefined ? {} : { ContinuationToken }),
          }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
        if (keys.length > 0) {
          await client.send(
            new DeleteObjectsCommand({
              Bucket,
              Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
            }),
          );
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    },
  };
}

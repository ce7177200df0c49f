import type { Readable } from 'node:stream';
import type { BulkS3Config } from '../../common/config.js';

/**
 * Where export output goes when an S3-compatible bucket is configured: one object per output part
 * at `<prefix><job id>/<file>`, written by a streaming multipart upload (memory stays flat) and
 * read back by Hearth's own download endpoint. The SDK is loaded only when a bucket is configured.
 */

export interface BucketUpload {
  /** Appends to the object (resolves once the stream accepts more). */
  write(text: string): Promise<void>;
  /** Completes the multipart upload: the object then exists. */
  finish(): Promise<void>;
  /** Abandons the upload (nothing is left behind). */
  abort(): Promise<void>;
}

export interface Bucket {
  readonly name: string;
  /** The object key of a job's file. */
  key(jobId: string, file: string): string;
  upload(key: string, contentType: string): Promise<BucketUpload>;
  /** The object's size, or undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
  /** The object's bytes `start`..`end` (inclusive), or all of it. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Deletes every object of a job. */
  removeJob(jobId: string): Promise<void>;
}

/** The configured bucket, its client created on first use. */
export function lazyBucket(config: BulkS3Config): Bucket {
  let opened: Promise<Bucket> | undefined;
  const bucket = () => (opened ??= import('./s3-bucket.js').then((m) => m.openS3Bucket(config)));
  return {
    name: config.bucket,
    key: (jobId, file) => `${config.prefix}${jobId}/${file}`,
    upload: async (key, type) => (await bucket()).upload(key, type),
    size: async (key) => (await bucket()).size(key),
    read: async (key, range) => (await bucket()).read(key, range),
    removeJob: async (jobId) => (await bucket()).removeJob(jobId),
  };
}

/** `s3://<bucket>/<key>` of the configured bucket → the key; undefined for any other URL. */
export function bucketKeyOf(url: string, bucket: Bucket): string | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (m?.[1] !== bucket.name || m[2] === undefined) return undefined;
  return m[2];
}

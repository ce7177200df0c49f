import { open, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Bucket, BucketUpload } from './bucket.js';

/**
 * Where an export job's output parts are written: files in the job's folder (a checkpoint survives
 * a restart: the part is truncated back to it), or objects in a bucket (a part is one multipart
 * upload, so a restart redoes the open part from its start).
 */

export interface PartSink {
  write(text: string): Promise<void>;
  /** Makes what was written durable (files) or does nothing (uploads). */
  checkpoint(): Promise<void>;
  /** Finishes the part: afterwards it exists in full. */
  close(): Promise<void>;
  /** Stops writing: an upload is abandoned, a file keeps what was written. */
  abort(): Promise<void>;
}

export interface PartTarget {
  /** True when a mid-part checkpoint survives a restart. */
  readonly resumesMidPart: boolean;
  /** Opens `file` keeping its first `bytes` (0 for a new part). */
  open(file: string, bytes: number): Promise<PartSink>;
  /** Removes a part that ended up empty. */
  remove(file: string): Promise<void>;
  /** The object key of a part in a bucket (undefined for a file). */
  keyOf(file: string): string | undefined;
}

export function fileTarget(dir: string): PartTarget {
  return {
    resumesMidPart: true,
    async open(file, bytes) {
      const p = path.join(dir, file);
      const h = await open(p, 'a');
      await truncate(p, bytes);
      return {
        write: async (text) => {
          await h.write(text);
        },
        checkpoint: () => h.datasync(),
        close: () => h.close(),
        abort: () => h.close(),
      };
    },
    remove: (file) => rm(path.join(dir, file), { force: true }),
    keyOf: () => undefined,
  };
}

export function bucketTarget(bucket: Bucket, jobId: string): PartTarget {
  return {
    resumesMidPart: false,
    open(file) {
      const key = bucket.key(jobId, file);
      // Nothing is uploaded until the first write, so an empty part leaves nothing behind.
      let upload: Promise<BucketUpload> | undefined;
      const started = () => (upload ??= bucket.upload(key, 'application/fhir+ndjson'));
      return Promise.resolve({
        write: async (text) => (await started()).write(text),
        checkpoint: () => Promise.resolve(),
        close: async () => {
          if (upload !== undefined) await (await upload).finish();
        },
        abort: async () => {
          if (upload !== undefined) await (await upload).abort();
        },
      });
    },
    remove: () => Promise.resolve(),
    keyOf: (file) => bucket.key(jobId, file),
  };
}

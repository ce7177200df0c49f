import type { Logger } from '../../common/logger.js';
import { tooManyRequests } from '../../store/index.js';
import type { Bucket } from './bucket.js';
import { runExport } from './export-runner.js';
import { runImport } from './import-runner.js';
import type { Job } from './job.js';
import type { JobStore } from './job-store.js';
import { bucketTarget } from './part-target.js';
import type { BulkSource } from './source.js';

/**
 * Runs bulk jobs: at most `maxRunning` at once (the rest wait in order) and at most `maxPerClient`
 * queued or running per client (more is a 429), resumes unfinished jobs on start, cancels on
 * request, and removes jobs (with their files, in the bucket too) once they expire.
 */

export interface BulkJobsOptions {
  store: JobStore;
  source: BulkSource;
  log: Logger;
  maxRunning: number;
  maxPerClient: number;
  maxPerFile: number;
  maxRate: number;
  maxBatchBytes: number;
  expiryMs: number;
  /** Export output goes here when set (else files in the job's folder). */
  bucket?: Bucket | undefined;
}

const SWEEP_MS = 60_000;
/** What a client over its job limit is told to wait. */
export const BUSY_RETRY_AFTER_S = 30;

export class BulkJobs {
  private readonly running = new Map<string, { ac: AbortController; done: Promise<void> }>();
  private readonly queue: string[] = [];
  /** Owner of every queued or running job. */
  private readonly active = new Map<string, string>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: BulkJobsOptions) {}

  /** Resumes every unfinished job and starts the expiry sweep. */
  async start(): Promise<void> {
    const jobs = await this.o.store.all();
    jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const j of jobs) {
      if (j.status !== 'in-progress') continue;
      this.queue.push(j.id);
      this.active.set(j.id, j.owner);
    }
    if (this.queue.length > 0) this.o.log.info({ jobs: this.queue.length }, 'resuming bulk jobs');
    this.pump();
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Queues a new job; a 429 OperationOutcome when its client already has `maxPerClient`. */
  async submit(job: Job): Promise<void> {
    const mine = [...this.active.values()].filter((o) => o === job.owner).length;
    if (mine >= this.o.maxPerClient) {
      throw tooManyRequests(
        `this client already has ${mine} bulk jobs queued or running (the limit is ${this.o.maxPerClient}); wait for one to finish or cancel one`,
        BUSY_RETRY_AFTER_S,
      );
    }
    this.active.set(job.id, job.owner);
    try {
      await this.o.store.save(job);
    } catch (err) {
      this.active.delete(job.id);
      throw err;
    }
    this.queue.push(job.id);
    this.pump();
  }

  /** Where a job waits: 0 when running, else its place in the queue. */
  queuePosition(id: string): number {
    return this.running.has(id) ? 0 : this.queue.indexOf(id) + 1;
  }

  async cancel(job: Job): Promise<void> {
    const run = this.running.get(job.id);
    const i = this.queue.indexOf(job.id);
    if (i >= 0) this.queue.splice(i, 1);
    this.active.delete(job.id);
    if (run !== undefined) {
      run.ac.abort('cancel');
      await run.done;
    }
    try {
      await this.remove(job);
    } catch (err) {
      // The bucket is unreachable: hide the job now, let the expiry sweep delete it later.
      this.o.log.warn({ err, job: job.id }, 'bulk job files could not be deleted yet');
      job.status = 'cancelled';
      job.expiresAt = new Date().toISOString();
      await this.o.store.save(job);
    }
  }

  /** Deletes a job's bucket objects, then its folder (kept for a retry if the bucket fails). */
  private async remove(job: Job): Promise<void> {
    if (this.o.bucket !== undefined && job.kind === 'export') await this.o.bucket.removeJob(job.id);
    await this.o.store.remove(job.id);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    for (const r of this.running.values()) r.ac.abort('shutdown');
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.o.maxRunning && this.queue.length > 0) {
      const id = this.queue.shift();
      if (id === undefined) break;
      const ac = new AbortController();
      const done = this.run(id, ac.signal).finally(() => {
        this.running.delete(id);
        this.active.delete(id);
        this.pump();
      });
      this.running.set(id, { ac, done });
    }
  }

  private async run(id: string, signal: AbortSignal): Promise<void> {
    const job = await this.o.store.load(id);
    if (job?.status !== 'in-progress') return;
    const save = async (j: Job) => {
      if (!signal.aborted) await this.o.store.save(j);
    };
    const dir = this.o.store.dir(id);
    try {
      if (job.kind === 'export') {
        await runExport(job, {
          dir,
          ...(this.o.bucket === undefined ? {} : { target: bucketTarget(this.o.bucket, id) }),
          source: this.o.source,
          maxPerFile: this.o.maxPerFile,
          maxRate: this.o.maxRate,
          save,
          signal,
        });
      } else {
        await runImport(job, {
          dir,
          source: this.o.source,
          maxBatchBytes: this.o.maxBatchBytes,
          save,
          signal,
          bucket: this.o.bucket,
        });
      }
      job.status = 'completed';
    } catch (err) {
      if (signal.aborted) return;
      this.o.log.error({ err, job: id }, 'bulk job failed');
      job.status = 'failed';
      job.failure =
        (err instanceof Error ? err.message.split('\n')[0] : undefined) ?? 'the job failed';
    }
    const now = Date.now();
    job.completedAt = new Date(now).toISOString();
    job.expiresAt = new Date(now + this.o.expiryMs).toISOString();
    await this.o.store.save(job);
    this.o.log.info({ job: id, kind: job.kind, status: job.status }, 'bulk job finished');
  }

  private async sweep(): Promise<void> {
    try {
      const now = Date.now();
      for (const j of await this.o.store.all()) {
        if (
          j.expiresAt !== undefined &&
          Date.parse(j.expiresAt) <= now &&
          !this.running.has(j.id)
        ) {
          await this.remove(j);
        }
      }
    } catch (err) {
      this.o.log.warn({ err }, 'bulk expiry sweep failed');
    }
  }
}

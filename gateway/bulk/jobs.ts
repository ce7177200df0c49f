import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../common/logger.js';
import { FhirError, issue, tooManyRequests } from '../../store/index.js';
import type { Bucket } from './bucket.js';
import type { Job } from './job.js';
import { JobRunner } from './job-runner.js';
import type { JobStore } from './job-store.js';
import { LockBusyError, ProcessLock } from './process-lock.js';
import type { BulkSource } from './source.js';

/**
 * Bulk jobs shared by every process of one DATA_DIR (the workers of WORKERS > 1, a restarted
 * Hearth): the job store on disk is the only truth. Any process accepts a job (the per-client
 * limit counted on disk, under a cross-process admission lock), answers status and cancels it (a
 * marker the running process honours). Exactly one process runs jobs: the holder of the runner
 * lock (`DATA_DIR/bulk/runner.lock`, released by the kernel when its holder exits, however it
 * exits); the others try to take it every `ELECT_MS`, so a runner that dies is replaced and its
 * jobs resume from their last checkpoint.
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

/** What a client over its job limit is told to wait. */
export const BUSY_RETRY_AFTER_S = 30;
const ELECT_MS = 1_000;
/** How long admission waits for another process's admission. */
const ADMIT_WAIT_MS = 5_000;
/** How long a cancel waits for the running process to stop and delete the job. */
const CANCEL_WAIT_MS = 10_000;
const CANCEL_POLL_MS = 100;

export class BulkJobs {
  private readonly runnerLock: ProcessLock;
  private readonly admitLock: ProcessLock;
  private runner: JobRunner | undefined;
  private runnerStarted: Promise<void> | undefined;
  private elector: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: BulkJobsOptions) {
    mkdirSync(o.store.root, { recursive: true, mode: 0o700 });
    this.runnerLock = new ProcessLock(path.join(o.store.root, 'runner.lock'));
    this.admitLock = new ProcessLock(path.join(o.store.root, 'admit.lock'));
  }

  /** True while this process runs the jobs. */
  get isRunner(): boolean {
    return this.runner !== undefined;
  }

  /** Becomes the runner when no other process is (resuming unfinished jobs), else keeps trying. */
  async start(): Promise<void> {
    this.elect();
    if (this.runner === undefined) {
      this.elector = setInterval(() => {
        this.elect();
      }, ELECT_MS);
      this.elector.unref();
    }
    await this.runnerStarted;
  }

  /** Stores a new job; a 429 OperationOutcome when its client already has `maxPerClient`. */
  async submit(job: Job): Promise<void> {
    try {
      await this.admitLock.runExclusive(async () => {
        const mine = await this.activeOf(job.owner);
        if (mine >= this.o.maxPerClient) {
          throw tooManyRequests(
            `this client already has ${mine} bulk jobs queued or running (the limit is ${this.o.maxPerClient}); wait for one to finish or cancel one`,
            BUSY_RETRY_AFTER_S,
          );
        }
        await this.o.store.create(job);
      }, ADMIT_WAIT_MS);
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
      this.o.log.warn({ err }, 'bulk job admission lock not free');
      throw new FhirError(503, [issue('error', 'transient', 'bulk job admission is busy')], {
        'retry-after': '1',
      });
    }
    this.runner?.wake();
  }

  /** Where a job waits: 0 once a runner started it, else its place among the waiting jobs. */
  async queuePosition(job: Job): Promise<number> {
    if (job.startedAt !== undefined) return 0;
    const waiting: Job[] = [];
    for (const j of await this.o.store.all()) {
      if (j.status !== 'in-progress' || j.startedAt !== undefined) continue;
      if (j.id === job.id || !(await this.o.store.isCancelled(j))) waiting.push(j);
    }
    waiting.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return Math.max(1, waiting.findIndex((j) => j.id === job.id) + 1);
  }

  /**
   * Cancels a job for its client: from then on it is gone for status and downloads and no longer
   * counts against the limits. The process running it stops it and deletes it; this waits (a
   * while) for that, so its files are gone when the answer goes out.
   */
  async cancel(job: Job): Promise<void> {
    await this.o.store.markCancelled(job.id);
    if (this.runner !== undefined) {
      await this.runner.cancel(job.id);
      return;
    }
    const deadline = Date.now() + CANCEL_WAIT_MS;
    for (let j: Job | undefined = job; j !== undefined; j = await this.o.store.load(job.id)) {
      // Not running (finished, or its runner stopped it): nobody else touches it; delete it here.
      if (j.status !== 'in-progress') {
        await this.removeQuietly(j);
        return;
      }
      if (Date.now() >= deadline) {
        this.o.log.warn({ job: job.id }, 'cancelled bulk job not stopped yet; the runner will');
        return;
      }
      await sleep(CANCEL_POLL_MS);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.elector);
    await this.runnerStarted;
    await this.runner?.close();
    this.runnerLock.close();
    this.admitLock.close();
  }

  private elect(): void {
    if (this.closed || this.runner !== undefined) return;
    try {
      if (!this.runnerLock.tryLock()) return;
    } catch (err) {
      this.o.log.error({ err }, 'bulk runner lock failed');
      return;
    }
    clearInterval(this.elector);
    this.o.log.info({ pid: process.pid }, 'this process runs the bulk jobs');
    const runner = new JobRunner({ ...this.o, remove: (j) => this.remove(j) });
    this.runner = runner;
    this.runnerStarted = runner.start().catch((err: unknown) => {
      this.o.log.error({ err }, 'bulk jobs could not be resumed');
    });
  }

  /** Jobs of `owner` queued or running (not cancelled), across every process. */
  private async activeOf(owner: string): Promise<number> {
    let n = 0;
    for (const j of await this.o.store.all()) {
      if (j.owner === owner && j.status === 'in-progress' && !(await this.o.store.isCancelled(j)))
        n++;
    }
    return n;
  }

  /** Deletes a job's bucket objects, then its folder (kept for a retry if the bucket fails). */
  private async remove(job: Job): Promise<void> {
    if (this.o.bucket !== undefined && job.kind === 'export') await this.o.bucket.removeJob(job.id);
    await this.o.store.remove(job.id);
  }

  private async removeQuietly(job: Job): Promise<void> {
    try {
      await this.remove(job);
    } catch (err) {
      this.o.log.warn({ err, job: job.id }, 'bulk job files could not be deleted yet');
    }
  }
}

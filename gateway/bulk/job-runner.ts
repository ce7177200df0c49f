import type { Logger } from '../../common/logger.js';
import type { Bucket } from './bucket.js';
import { runExport } from './export-runner.js';
import { runImport } from './import-runner.js';
import type { Job } from './job.js';
import type { JobStore } from './job-store.js';
import { bucketTarget } from './part-target.js';
import type { BulkSource } from './source.js';

/**
 * Runs the bulk jobs of one DATA_DIR; exactly one process does at a time (the holder of the runner
 * lock, see jobs.ts). It finds jobs in the shared job store, whichever process accepted them: at
 * start (resuming unfinished ones) and by scanning every `SCAN_MS`. Runs at most `maxRunning` at
 * once, in order (jobs started before, then by creation); stops a job as soon as a cancel marker
 * appears (from any process) and removes it; removes expired and cancelled jobs in a sweep.
 */

export interface JobRunnerOptions {
  store: JobStore;
  source: BulkSource;
  log: Logger;
  maxRunning: number;
  maxPerFile: number;
  maxRate: number;
  maxBatchBytes: number;
  expiryMs: number;
  bucket?: Bucket | undefined;
  /** Deletes a job and its files (in the bucket too). */
  remove(job: Job): Promise<void>;
}

const SCAN_MS = 250;
const SWEEP_MS = 60_000;

/** The order jobs run in: those a runner started before (resumed first), then oldest first. */
function runOrder(a: Job, b: Job): number {
  const started = Number(b.startedAt !== undefined) - Number(a.startedAt !== undefined);
  return started || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

export class JobRunner {
  private readonly running = new Map<string, { ac: AbortController; done: Promise<void> }>();
  private queue: Job[] = [];
  /** Job folders already looked at (queued, running, or finished). */
  private readonly seen = new Set<string>();
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private scanner: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: JobRunnerOptions) {}

  /** Resumes unfinished jobs, then keeps looking for new ones and sweeps expired ones. */
  async start(): Promise<void> {
    await this.scanNow();
    if (this.queue.length + this.running.size > 0)
      this.o.log.info({ jobs: this.queue.length + this.running.size }, 'resuming bulk jobs');
    this.scanner = setInterval(() => void this.scanNow(), SCAN_MS);
    this.scanner.unref();
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Looks for new jobs now (one was just accepted in this process). */
  wake(): void {
    void this.scanNow();
  }

  /**
   * Stops a job whose cancel marker is written: aborts it when running, then deletes it (also when
   * queued or finished). Resolves once it is gone (or its deletion failed and is left to the sweep).
   */
  async cancel(id: string): Promise<void> {
    this.queue = this.queue.filter((j) => j.id !== id);
    const run = this.running.get(id);
    if (run !== undefined) {
      run.ac.abort('cancel');
      await run.done;
      return;
    }
    const job = await this.o.store.load(id);
    if (job !== undefined) await this.removeQuietly(job);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.scanner);
    clearInterval(this.sweeper);
    await this.scanning;
    for (const r of this.running.values()) r.ac.abort('shutdown');
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** One scan at a time; asking during a scan runs one more right after it. */
  private scanNow(): Promise<void> {
    if (this.scanning !== undefined) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        await this.scan();
      } while (this.rescanWanted());
    })()
      .catch((err: unknown) => {
        this.o.log.warn({ err }, 'bulk job scan failed');
      })
      .finally(() => {
        this.scanning = undefined;
      });
    return this.scanning;
  }

  private rescanWanted(): boolean {
    return this.rescan && !this.closed;
  }

  private async scan(): Promise<void> {
    const ids = await this.o.store.ids();
    const present = new Set(ids);
    for (const id of this.seen) if (!present.has(id)) this.seen.delete(id);
    const found: Job[] = [];
    for (const id of ids) {
      const active = this.running.get(id) !== undefined || this.queue.some((j) => j.id === id);
      if (active) {
        if (await this.o.store.hasCancelMarker(id)) await this.cancel(id);
        continue;
      }
      if (this.seen.has(id)) continue;
      const job = await this.o.store.load(id);
      // No state yet (being created) or any more (being removed): look again next time.
      if (job === undefined) continue;
      this.seen.add(id);
      if (await this.o.store.isCancelled(job)) await this.removeQuietly(job);
      else if (job.status === 'in-progress') found.push(job);
    }
    if (found.length === 0 || this.closed) return;
    this.queue.push(...found);
    this.queue.sort(runOrder);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.o.maxRunning) {
      const job = this.queue.shift();
      if (job === undefined) break;
      const ac = new AbortController();
      const done = this.run(job.id, ac.signal)
        .catch((err: unknown) => {
          this.o.log.error({ err, job: job.id }, 'bulk job stopped with an error');
        })
        .then(() => this.removeIfCancelled(job.id))
        .finally(() => {
          this.running.delete(job.id);
          this.pump();
        });
      this.running.set(job.id, { ac, done });
    }
  }

  private async run(id: string, signal: AbortSignal): Promise<void> {
    const job = await this.o.store.load(id);
    if (job?.status !== 'in-progress' || (await this.o.store.isCancelled(job))) return;
    job.startedAt ??= new Date().toISOString();
    await this.o.store.save(job);
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

  /** After a run: a job cancelled meanwhile (it may have finished first) is deleted. */
  private async removeIfCancelled(id: string): Promise<void> {
    const job = await this.o.store.load(id);
    if (job !== undefined && (await this.o.store.isCancelled(job))) await this.removeQuietly(job);
  }

  private async removeQuietly(job: Job): Promise<void> {
    try {
      await this.o.remove(job);
    } catch (err) {
      // The bucket is unreachable: the job stays hidden (cancelled or expired); the sweep retries.
      this.o.log.warn({ err, job: job.id }, 'bulk job files could not be deleted yet');
    }
  }

  private async sweep(): Promise<void> {
    try {
      const now = Date.now();
      for (const j of await this.o.store.all()) {
        if (this.running.has(j.id)) continue;
        const expired = j.expiresAt !== undefined && Date.parse(j.expiresAt) <= now;
        if (expired || (await this.o.store.isCancelled(j))) await this.removeQuietly(j);
      }
    } catch (err) {
      this.o.log.warn({ err }, 'bulk expiry sweep failed');
    }
  }
}

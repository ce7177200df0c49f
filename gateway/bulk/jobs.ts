import type { Logger } from '../../common/logger.js';
import { runExport } from './export-runner.js';
import { runImport } from './import-runner.js';
import type { Job } from './job.js';
import type { JobStore } from './job-store.js';
import type { BulkSource } from './source.js';

/**
 * Runs bulk jobs: at most `maxRunning` at once (the rest wait in order), resumes unfinished jobs on
 * start, cancels on request, and removes jobs (with their files) once they expire.
 */

export interface BulkJobsOptions {
  store: JobStore;
  source: BulkSource;
  log: Logger;
  maxRunning: number;
  maxPerFile: number;
  maxRate: number;
  maxBatchBytes: number;
  expiryMs: number;
}

const SWEEP_MS = 60_000;

export class BulkJobs {
  private readonly running = new Map<string, { ac: AbortController; done: Promise<void> }>();
  private readonly queue: string[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: BulkJobsOptions) {}

  /** Resumes every unfinished job and starts the expiry sweep. */
  async start(): Promise<void> {
    const jobs = await this.o.store.all();
    jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const j of jobs) if (j.status === 'in-progress') this.queue.push(j.id);
    if (this.queue.length > 0) this.o.log.info({ jobs: this.queue.length }, 'resuming bulk jobs');
    this.pump();
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  async submit(job: Job): Promise<void> {
    await this.o.store.save(job);
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
    if (run !== undefined) {
      run.ac.abort('cancel');
      await run.done;
    }
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
          await this.o.store.remove(j.id);
        }
      }
    } catch (err) {
      this.o.log.warn({ err }, 'bulk expiry sweep failed');
    }
  }
}

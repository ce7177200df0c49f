import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../common/logger.js';

/**
 * The primary's side of WORKERS > 1: forks `count` cluster workers (each runs the whole app and its
 * own store thread, see main.ts) that share the public port, restarts a worker that dies (with
 * exponential backoff, logged), and on `stop` drains them all. A worker reports readiness with
 * `process.send({ ready: true })`; until every first worker did, a death fails `start` instead.
 */

export interface WorkerPoolOptions {
  count: number;
  /** Added to the environment of the worker forked for a slot (0…count-1). */
  env: (slot: number) => Record<string, string>;
  log: Logger;
  /** Delay before the first restart of a crashed worker; doubles per consecutive crash. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A worker that ran this long before dying counts as healthy: its restart delay starts over. */
  stableMs?: number;
  startTimeoutMs?: number;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  crashes: number;
  restart: NodeJS.Timeout | undefined;
}

function isReady(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && (msg as { ready?: unknown }).ready === true;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private started = false;
  private stopping = false;

  constructor(private readonly o: WorkerPoolOptions) {
    this.slots = Array.from({ length: o.count }, (_, index) => ({
      index,
      worker: undefined,
      ready: false,
      startedAt: 0,
      crashes: 0,
      restart: undefined,
    }));
  }

  /** Forks every worker; resolves once all are ready, rejects when one dies or times out first. */
  async start(): Promise<void> {
    // Workers get no arguments: `--demo` seeding is the primary's, done once before forking.
    cluster.setupPrimary({ args: [] });
    await Promise.all(this.slots.map((slot) => this.fork(slot)));
    this.started = true;
  }

  /** The workers that are up, by slot (0…count-1, kept across restarts). */
  live(): { slot: number; worker: Worker }[] {
    return this.slots.flatMap((s) =>
      s.worker === undefined || !s.ready || !s.worker.isConnected()
        ? []
        : [{ slot: s.index, worker: s.worker }],
    );
  }

  /** Process ids of the live workers. */
  pids(): number[] {
    return this.slots.flatMap((s) =>
      s.worker?.process.pid === undefined ? [] : [s.worker.process.pid],
    );
  }

  /** SIGTERM to every worker (each drains its requests and stops its store), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restart);
    await Promise.all(
      this.slots.map((slot) => {
        const worker = slot.worker;
        if (worker === undefined || worker.isDead()) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const kill = setTimeout(() => {
            this.o.log.warn({ pid: worker.process.pid }, 'worker did not stop in time; killing it');
            worker.process.kill('SIGKILL');
          }, graceMs);
          worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          worker.process.kill('SIGTERM');
        });
      }),
    );
  }

  private fork(slot: Slot): Promise<void> {
    const worker = cluster.fork(this.o.env(slot.index));
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    const timeoutMs = this.o.startTimeoutMs ?? 120_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`worker ${worker.process.pid} was not ready in ${timeoutMs} ms`));
        worker.process.kill('SIGKILL');
      }, timeoutMs);
      worker.on('message', (msg: unknown) => {
        if (!isReady(msg)) return;
        clearTimeout(timer);
        slot.ready = true;
        this.o.log.info({ slot: slot.index, pid: worker.process.pid }, 'worker ready');
        resolve();
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `worker ${worker.process.pid} exited before it was ready (code ${code}, signal ${signal})`,
          ),
        );
        this.exited(slot, worker, code, signal);
      });
    });
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    if (this.stopping || !this.started) return;
    const ranMs = Date.now() - slot.startedAt;
    slot.crashes = ranMs >= (this.o.stableMs ?? 60_000) ? 1 : slot.crashes + 1;
    const delay = Math.min(
      this.o.maxBackoffMs ?? 30_000,
      (this.o.backoffMs ?? 250) * 2 ** (slot.crashes - 1),
    );
    this.o.log.error(
      { slot: slot.index, pid: worker.process.pid, code, signal, ranMs, restartInMs: delay },
      'worker exited; restarting it',
    );
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (this.stopping) return;
      // A worker that dies before it is ready comes back through `exited`, with a longer delay.
      this.fork(slot).catch((err: unknown) => {
        this.o.log.error({ err, slot: slot.index }, 'restarted worker did not start');
      });
    }, delay);
  }
}

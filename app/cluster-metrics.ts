import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * `/metrics` under WORKERS > 1: whichever worker takes the scrape asks the primary, which collects
 * every worker's registry over the cluster's IPC channel and answers with all of them in one text,
 * each sample labelled `worker="<slot>"` (0…n-1, stable across restarts), so Prometheus sees every
 * worker's counters on every scrape (sum them with `sum without (worker)`). A worker that does not
 * answer in time is left out of that scrape; without the primary, a worker serves its own numbers.
 */

const ASK = 'hearth:metrics?';
const ANSWER = 'hearth:metrics';
const COLLECT = 'hearth:metrics-collect?';
const COLLECTED = 'hearth:metrics-collected';
const TIMEOUT_MS = 2000;

interface Message {
  hearth: string;
  id: number;
  text?: string;
  metrics?: unknown[];
}

function isMessage(msg: unknown, kind: string): msg is Message {
  return typeof msg === 'object' && msg !== null && (msg as { hearth?: unknown }).hearth === kind;
}

interface Labelled {
  values?: { labels?: Record<string, string | number> }[];
}

function labelled(metrics: unknown[], slot: number): object[] {
  return metrics.map((m) => ({
    ...(m as object),
    values: ((m as Labelled).values ?? []).map((v) => ({
      ...v,
      labels: { ...v.labels, worker: String(slot) },
    })),
  }));
}

/** Primary: answers scrape requests from workers; `live` lists the ready workers by slot. */
export function serveClusterMetrics(live: () => { slot: number; worker: Worker }[]): void {
  let next = 0;
  const waiting = new Map<number, (metrics: unknown[]) => void>();
  cluster.on('message', (from: Worker, msg: unknown) => {
    if (isMessage(msg, COLLECTED)) {
      waiting.get(msg.id)?.(msg.metrics ?? []);
      return;
    }
    if (!isMessage(msg, ASK)) return;
    const collect = live().map(
      ({ slot, worker }) =>
        new Promise<object[]>((resolve) => {
          const id = ++next;
          const timer = setTimeout(() => {
            waiting.delete(id);
            resolve([]);
          }, TIMEOUT_MS);
          waiting.set(id, (metrics) => {
            clearTimeout(timer);
            waiting.delete(id);
            resolve(labelled(metrics, slot));
          });
          worker.send({ hearth: COLLECT, id }, (err: Error | null) => {
            if (err !== null) waiting.get(id)?.([]);
          });
        }),
    );
    void Promise.all(collect)
      .then((all) => AggregatorRegistry.aggregate(all).metrics())
      .then(
        (text) => ({ hearth: ANSWER, id: msg.id, text }),
        () => ({ hearth: ANSWER, id: msg.id }),
      )
      .then((answer) => {
        if (from.isConnected()) from.send(answer);
      });
  });
}

/**
 * Worker: lets the primary collect `registry`, and returns the scrape function `/metrics` uses
 * (every worker's metrics, or this worker's alone when the primary does not answer).
 */
export function clusterMetricsClient(registry: Registry): () => Promise<string> {
  let next = 0;
  const waiting = new Map<number, (text: string | undefined) => void>();
  process.on('message', (msg: unknown) => {
    if (isMessage(msg, COLLECT)) {
      void registry.getMetricsAsJSON().then((metrics) => {
        process.send?.({ hearth: COLLECTED, id: msg.id, metrics });
      });
    } else if (isMessage(msg, ANSWER)) {
      waiting.get(msg.id)?.(msg.text);
    }
  });
  return async () => {
    const id = ++next;
    const text = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(undefined);
      }, TIMEOUT_MS * 2);
      waiting.set(id, (t) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(t);
      });
      if (process.send === undefined) waiting.get(id)?.(undefined);
      else
        process.send({ hearth: ASK, id }, undefined, undefined, (err: Error | null) => {
          if (err !== null) waiting.get(id)?.(undefined);
        });
    });
    return text ?? registry.metrics();
  };
}

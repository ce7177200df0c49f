import { Agent, request } from 'undici';
import { percentile } from './stats.js';

export interface LatencyResult {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  failures: number;
}

/**
 * Measures per-request latency (ms) of a query mix with a few requests in flight, after a warm-up.
 * Exact percentiles over every sample (autocannon's histogram has no p95).
 *
 * The client is undici's `request` on one keep-alive agent, not `fetch`: on this project's 2-vCPU
 * VM `fetch` (WHATWG streams and Response objects around the same undici client) added 0.5–0.9 ms
 * at p50 and up to 1.6 ms at p95 to every search in a same-run comparison, the client's own time
 * and garbage, which the figures are not about (autocannon drives the throughput rows for the
 * same reason).
 */
export async function measureLatency(
  urls: readonly string[],
  headers: Record<string, string>,
  opts: { requests: number; concurrency: number; warmup: number },
): Promise<LatencyResult> {
  const dispatcher = new Agent({ keepAliveTimeout: 60_000, connections: opts.concurrency });
  let next = 0;
  let failures = 0;
  const samples: number[] = [];
  const one = async (record: boolean): Promise<void> => {
    const url = urls[next++ % urls.length] ?? '';
    const t0 = performance.now();
    const res = await request(url, { headers, dispatcher });
    await res.body.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.statusCode < 200 || res.statusCode > 299) failures++;
    if (record) samples.push(ms);
  };
  try {
    for (let i = 0; i < opts.warmup; i++) await one(false);
    let remaining = opts.requests;
    const lane = async (): Promise<void> => {
      while (remaining > 0) {
        remaining--;
        await one(true);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, lane));
  } finally {
    await dispatcher.close();
  }
  samples.sort((a, b) => a - b);
  return {
    requests: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    failures,
  };
}

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
 */
export async function measureLatency(
  urls: readonly string[],
  headers: Record<string, string>,
  opts: { requests: number; concurrency: number; warmup: number },
): Promise<LatencyResult> {
  let next = 0;
  let failures = 0;
  const samples: number[] = [];
  const one = async (record: boolean): Promise<void> => {
    const url = urls[next++ % urls.length] ?? '';
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (!res.ok) failures++;
    if (record) samples.push(ms);
  };
  for (let i = 0; i < opts.warmup; i++) await one(false);
  let remaining = opts.requests;
  const lane = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      await one(true);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  samples.sort((a, b) => a - b);
  return {
    requests: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    failures,
  };
}

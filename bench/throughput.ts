import type { LoadSpec } from './load.js';
import { runLoad } from './load.js';
import type { BenchOptions } from './options.js';
import type { ThroughputRow } from './report.js';
import { median } from './stats.js';

/** n items cycling through `xs` with a stride, so a load spreads over the whole list. */
export const sample = <T>(xs: readonly T[], n: number): T[] =>
  Array.from(
    { length: Math.min(n, Math.max(xs.length, 1) * 50) },
    (_v, i) => xs[(i * 7919) % xs.length],
  ).filter((x): x is T => x !== undefined);

export interface Config {
  id: string;
  label: string;
  spec: () => Promise<LoadSpec>;
}

export async function throughput(configs: Config[], o: BenchOptions): Promise<ThroughputRow[]> {
  const runs = new Map<string, ThroughputRow['runs']>(configs.map((c) => [c.id, []]));
  for (const c of configs) {
    process.stderr.write(`  warm-up ${c.id}\n`);
    await runLoad({ ...(await c.spec()), durationSeconds: 1 });
  }
  for (let r = 1; r <= o.rounds; r++) {
    for (const c of configs) {
      process.stderr.write(`  round ${r}/${o.rounds} ${c.id}\n`);
      const res = await runLoad({ ...(await c.spec()), durationSeconds: o.durationSeconds });
      runs.get(c.id)?.push(res);
    }
  }
  const rows = configs.map((c): ThroughputRow => {
    const rs = runs.get(c.id) ?? [];
    return {
      id: c.id,
      label: c.label,
      runs: rs,
      median: {
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
      },
      ratioToCeiling: 0,
    };
  });
  const ceiling = rows.find((r) => r.id === 'ceiling')?.median.rps ?? Number.NaN;
  for (const row of rows) row.ratioToCeiling = row.median.rps / ceiling;
  return rows;
}

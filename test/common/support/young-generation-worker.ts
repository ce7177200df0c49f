import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';

/** Allocates short-lived garbage until the young generation has grown, then reports its size. */
let keep: unknown[] = [];
for (let i = 0; i < 400_000; i++) {
  keep.push({ i, s: `item ${i}`, a: [i, i + 1] });
  if (keep.length > 2_000) keep = [];
}
const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
parentPort?.postMessage(newSpace?.space_size ?? -1);

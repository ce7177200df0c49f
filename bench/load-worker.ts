import { readFileSync } from 'node:fs';
import autocannon, { type Request } from 'autocannon';
import type { LoadSpec } from './load.js';

/**
 * Runs one autocannon load and prints its summary as JSON on stdout. Started by load.ts under
 * `taskset` so the load generator stays on its own core.
 */

// The spec comes in a file: thousands of paths exceed the kernel's limit on one argument.
const input = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadSpec;
let i = 0;
const paths = input.paths;
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.durationSeconds,
  method: (input.method ?? 'GET') as 'GET',
  headers: input.headers ?? {},
  ...(input.body === undefined ? {} : { body: input.body }),
  ...(input.socketPath === undefined ? {} : { socketPath: input.socketPath }),
  ...(paths === undefined || paths.length === 0
    ? {}
    : {
        requests: [
          {
            setupRequest: (req: Request): Request => {
              const path = paths[i++ % paths.length] ?? '/';
              return { ...req, path };
            },
          },
        ],
      }),
});
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }),
);

/** Command-line options of `npm run bench`. */

export interface BenchOptions {
  /** Generated patients (ignored with `data`). */
  patients: number;
  /** A directory of Bundle JSON files to load instead of generating. */
  data: string | undefined;
  quick: boolean;
  /** Seconds per measured throughput run. */
  durationSeconds: number;
  /** Measured runs per throughput configuration (interleaved rounds). */
  rounds: number;
  connections: number;
  /** Requests per search query in the latency mix. */
  searchRequests: number;
  /** Concurrent POSTs during ingest. */
  ingestConcurrency: number;
  /** Where the JSON goes (default bench/results/bench-<time>.json). */
  out: string | undefined;
  /** Engines measured, each on its own fresh copy of the dataset. */
  engines: ('sqlite' | 'postgres')[];
  /** PostgreSQL server for the `postgres` engine (a fresh schema is created and dropped). */
  postgresUrl: string;
  /** WORKERS values of the gateway-read sweep. */
  workers: number[];
  /** Write V8 CPU profiles of every Hearth process into this folder. */
  profileDir: string | undefined;
  /** Measure `$export` and `$import` rates (`--no-bulk` skips them). */
  bulk: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--patients N | --data DIR] [--duration S] [--rounds R]
       [--connections C] [--search-requests N] [--ingest-concurrency N] [--out FILE]
       [--engines sqlite,postgres] [--postgres URL] [--workers 1,2] [--profile DIR] [--no-bulk]`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    patients: quick ? 4 : 600,
    data: undefined,
    quick,
    durationSeconds: quick ? 2 : 10,
    rounds: 2,
    connections: 32,
    searchRequests: quick ? 20 : 300,
    ingestConcurrency: 2,
    out: undefined,
    engines: ['sqlite', 'postgres'],
    postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    workers: [1, 2],
    profileDir: undefined,
    bulk: true,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${flag} needs a whole number ≥ ${min}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    switch (flag) {
      case '--quick':
        break;
      case '--patients':
        o.patients = num(flag, v, 1);
        i++;
        break;
      case '--data':
        if (v === undefined) throw new Error(`--data needs a directory\n${USAGE}`);
        o.data = v;
        i++;
        break;
      case '--duration':
        o.durationSeconds = num(flag, v, 1);
        i++;
        break;
      case '--rounds':
        o.rounds = num(flag, v, 2);
        i++;
        break;
      case '--connections':
        o.connections = num(flag, v, 1);
        i++;
        break;
      case '--search-requests':
        o.searchRequests = num(flag, v, 1);
        i++;
        break;
      case '--ingest-concurrency':
        o.ingestConcurrency = num(flag, v, 1);
        i++;
        break;
      case '--engines': {
        const list = (v ?? '').split(',').filter((x) => x !== '');
        if (list.length === 0 || list.some((x) => x !== 'sqlite' && x !== 'postgres'))
          throw new Error(`--engines takes sqlite and/or postgres, comma-separated\n${USAGE}`);
        o.engines = [...new Set(list as ('sqlite' | 'postgres')[])];
        i++;
        break;
      }
      case '--postgres':
        if (v === undefined || !/^postgres(ql)?:\/\//.test(v))
          throw new Error(`--postgres needs a postgres:// URL\n${USAGE}`);
        o.postgresUrl = v;
        i++;
        break;
      case '--workers': {
        const list = (v ?? '').split(',').map(Number);
        if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
          throw new Error(`--workers takes whole numbers 1–64, comma-separated\n${USAGE}`);
        o.workers = [...new Set(list)];
        i++;
        break;
      }
      case '--no-bulk':
        o.bulk = false;
        break;
      case '--profile':
        if (v === undefined) throw new Error(`--profile needs a directory\n${USAGE}`);
        o.profileDir = v;
        i++;
        break;
      case '--out':
        if (v === undefined) throw new Error(`--out needs a file\n${USAGE}`);
        o.out = v;
        i++;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return o;
}

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { CliError, print } from '../../cli/output.js';
import { isResourceType } from '../../store/index.js';
import { allResourceTypes } from '../authz/resource-types.js';
import { runExport } from './export-runner.js';
import type { ExportJob } from './job.js';
import type { BulkSource } from './source.js';

/**
 * `hearth export [--type T,...] [--since INSTANT] --out DIR`: the same export machinery as
 * `$export` (rid-ordered store stream, split NDJSON files), reading the store's database directly
 * so it works with or without the server running, with a progress bar on a terminal. Prints
 * `{"files":[…],"resources":n}`.
 */

interface ExportOptions {
  out: string;
  type?: string;
  since?: string;
}

function types(list: string | undefined): string[] {
  if (list === undefined)
    return allResourceTypes()
      .filter((t) => t !== 'AuditEvent')
      .sort();
  const out = list
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of out) if (!isResourceType(t)) throw new CliError(`unknown resource type ${t}`);
  return out;
}

export function registerBulkCommands(program: Command, getConfig: () => Config): void {
  program
    .command('export')
    .description('bulk export to NDJSON files, one or more per resource type')
    .requiredOption('--out <dir>', 'folder for the NDJSON files (created when missing)')
    .option('--type <types>', 'comma-separated resource types (default: all)')
    .option('--since <instant>', 'only resources updated after this FHIR instant')
    .action(async (opts: ExportOptions, cmd: Command) => {
      const config = getConfig();
      const since = opts.since === undefined ? undefined : Date.parse(opts.since);
      if (since !== undefined && Number.isNaN(since))
        throw new CliError('--since must be an instant');
      const out = path.resolve(opts.out);
      await mkdir(out, { recursive: true });
      // Loaded here, not with the gateway: the server process never needs the store's engines.
      const { exportCount, exportLines, openEngine, storeSchema } =
        await import('../../store/server.js');
      const { progressShown, startProgress } = await import('../../cli/progress.js');
      const engine = openEngine(config);
      try {
        await engine.migrate(storeSchema(engine.dialect));
        const source: BulkSource = {
          exportLines: (q) => exportLines(engine, q),
          importBatch: () => Promise.reject(new Error('not available in the CLI')),
          readGroup: () => Promise.resolve(undefined),
        };
        const now = Date.now();
        const wanted = types(opts.type);
        const job: ExportJob = {
          id: 'cli',
          owner: 'cli',
          kind: 'export',
          status: 'in-progress',
          request: 'hearth export',
          transactionTime: new Date(now).toISOString(),
          createdAt: new Date(now).toISOString(),
          output: [],
          error: [],
          params: {
            level: 'system',
            types: wanted,
            until: now,
            typeFilters: {},
            scopeFilters: {},
            elements: {},
            ...(since === undefined ? {} : { since }),
          },
          cursor: { typeIndex: 0, afterRid: 0, part: 1, partCount: 0, partBytes: 0 },
          resources: 0,
        };
        const total = progressShown(cmd) ? await exportCount(engine, wanted, since, now) : 0;
        const bar = startProgress(cmd, total, 'resources');
        await runExport(job, {
          dir: out,
          source,
          maxPerFile: config.exportFileMaxResources,
          maxRate: 0,
          save: () => Promise.resolve(),
          signal: new AbortController().signal,
          entities: false,
          onProgress: (j) => {
            bar.update(j.resources);
          },
        });
        bar.stop();
        const files = job.output.map((f) => path.join(out, f.file));
        print(
          cmd,
          { files, resources: job.resources },
          `${job.resources} resources in ${files.length} files`,
        );
      } finally {
        await engine.close();
      }
    });
}

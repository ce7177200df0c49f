import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { siblingEntry, startChild } from '../common/child-process.js';
import { freePort } from '../common/free-port.js';
import { createLogger } from '../common/logger.js';
import { benchEngine } from './engine.js';
import { projectRoot } from './hearth-process.js';
import { LOAD_CORE } from './load.js';
import { parseOptions, USAGE } from './options.js';
import { formatReport, TARGETS, type BenchReport, type EngineSection } from './report.js';

/**
 * `npm run bench`: one run that generates (or loads) a dataset, starts Hearth from dist/ as
 * `npm start` does, and measures the whole path against a bare node:http ceiling of the same run.
 */

const log = createLogger('warn', 'bench');

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg();
  if (o.profileDir !== undefined) await mkdir(o.profileDir, { recursive: true });
  const hello = await startChild(siblingEntry(import.meta.url, './hello-server'), process.env, log);
  try {
    const ports: [number, number] = [await freePort(), await freePort()];
    const engines: EngineSection[] = [];
    for (const engine of o.engines)
      engines.push(await benchEngine(engine, { o, hello: hello.ready.address ?? '', ports, log }));
    const report: BenchReport = {
      schema: 'hearth-bench/2',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        loadCore: LOAD_CORE,
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: os.loadavg(),
      },
      options: { ...o },
      dataset: {
        patients: o.data === undefined ? o.patients : null,
        dir: o.data ?? null,
      },
      engines,
      targets: TARGETS,
    };
    const out =
      o.out ??
      path.join(projectRoot, 'bench', 'results', `bench-${startedAt.replace(/[:.]/g, '-')}.json`);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${formatReport(report)}\n\nwrote ${out}\n`);
  } finally {
    await hello.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingEntry, startChild, type StartedChild } from '../common/child-process.js';
import type { Logger } from '../common/logger.js';

/** The project root (bench/ compiles to dist/bench/, so two levels up from there). */
export const projectRoot = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url),
);

export interface HearthInstance {
  /** Where it listens, e.g. `http://127.0.0.1:41234`. */
  listenUrl: string;
  pid: number;
  /** From spawn to the first 200 from `/fhir/metadata`. */
  coldStartMs: number;
  stop(): Promise<void>;
}

async function firstOk(url: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} never answered 200`);
}

/**
 * What `npm start` runs (package.json `[NAME=value…] node [flags…] dist/main.js`): the environment
 * it sets (e.g. MALLOC_ARENA_MAX) and the node flags it passes (e.g. the heap bound).
 */
export function npmStart(): { env: Record<string, string>; nodeArgs: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  const node = words.indexOf('node');
  const assignments = words.slice(0, Math.max(node, 0));
  if (node < 0 || words.at(-1) !== 'dist/main.js' || assignments.some((w) => !/^\w+=/.test(w)))
    throw new Error(
      `package.json start is not "[VAR=v] node [flags] dist/main.js": ${words.join(' ')}`,
    );
  const env = Object.fromEntries(
    assignments.map((w) => [w.split('=')[0] ?? '', w.slice(w.indexOf('=') + 1)]),
  );
  return { env, nodeArgs: words.slice(node + 1, -1) };
}

/**
 * Starts Hearth from the built dist/ as `npm start` does (its environment and node flags), or the
 * bench-only unaudited entry, and times the cold start to the first 200.
 */
export async function startHearthProcess(
  entry: 'main' | 'unaudited',
  env: Record<string, string>,
  port: number,
  log: Logger,
): Promise<HearthInstance> {
  // From dist/ (npm run bench) the compiled entries; from sources under tsx (the test) the .ts ones.
  const file =
    entry === 'main'
      ? siblingEntry(import.meta.url, '../main')
      : siblingEntry(import.meta.url, './hearth-unaudited');
  const listenUrl = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const start = npmStart();
  const started = startChild(
    file,
    { ...process.env, ...start.env, ...env, PORT: String(port) },
    log,
    120_000,
    [],
    start.nodeArgs,
  );
  const ready = firstOk(`${listenUrl}/fhir/metadata`, t0 + 120_000);
  let child: StartedChild;
  try {
    [child] = await Promise.all([started, ready]);
  } catch (err) {
    await started.then((c) => c.stop()).catch(() => undefined);
    throw err;
  }
  const coldStartMs = performance.now() - t0;
  return {
    listenUrl,
    pid: child.child.pid ?? 0,
    coldStartMs,
    stop: () => child.stop(),
  };
}

const cliMain = siblingEntry(import.meta.url, '../cli/main');
const cliEntry = cliMain.endsWith('.ts') ? ['--import', 'tsx', cliMain] : [cliMain];

/** Runs the admin CLI (`node bin/hearth.js`) against a DATA_DIR and returns its JSON output. */
export function hearthCli(args: string[], env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...cliEntry, ...args, '--json'],
      { cwd: projectRoot, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err !== null) {
          reject(
            new Error(`hearth ${args.slice(0, 2).join(' ')}: ${stderr.trim() || err.message}`),
          );
          return;
        }
        resolve(stdout.trim() === '' ? {} : (JSON.parse(stdout) as unknown));
      },
    );
  });
}

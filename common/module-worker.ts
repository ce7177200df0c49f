import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { siblingEntry } from './child-process.js';

export interface ModuleWorkerOptions extends WorkerOptions {
  /**
   * The thread's semi-space size in MiB (its young generation is twice that). V8 sizes a new
   * isolate's young generation from the process's `--max-semi-space-size` and ignores a Worker's
   * `resourceLimits.maxYoungGenerationSizeMb` when that flag is set (checked on Node 20), so the
   * flag is lowered while the thread's isolate is created and put back as soon as it runs.
   */
  semiSpaceMb?: number;
}

/** The process's own `--max-semi-space-size` (0: V8's default), from its flags or NODE_OPTIONS. */
export function processSemiSpaceMb(): number {
  const words = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv];
  let mb = 0;
  for (let i = 0; i < words.length; i++) {
    const m = /^--max-semi-space-size(?:=(\d+))?$/.exec(words[i] ?? '');
    if (m !== null) mb = Number(m[1] ?? words[i + 1] ?? 0);
  }
  return Number.isFinite(mb) ? mb : 0;
}

/**
 * A worker thread running the module `relative` (without extension) beside `from` (an
 * `import.meta.url`): the compiled `.js` in production; under tsx (tests, from TypeScript
 * sources) the thread registers tsx's loader before importing the `.ts` module.
 */
export function moduleWorker(
  from: string,
  relative: string,
  { semiSpaceMb, ...options }: ModuleWorkerOptions,
): Worker {
  const entry = siblingEntry(from, relative);
  const create = (): Worker => {
    if (!entry.endsWith('.ts')) return new Worker(entry, options);
    const url = JSON.stringify(pathToFileURL(entry).href);
    return new Worker(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${url}); });`,
      { ...options, eval: true },
    );
  };
  if (semiSpaceMb === undefined) return create();
  const own = processSemiSpaceMb();
  v8.setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    v8.setFlagsFromString(`--max-semi-space-size=${own}`);
  };
  try {
    const worker = create();
    // 'online': the thread runs JavaScript, so its isolate (and young generation) exists.
    worker.once('online', restore).once('error', restore).once('exit', restore);
    return worker;
  } catch (err) {
    restore();
    throw err;
  }
}

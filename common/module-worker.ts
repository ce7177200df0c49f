import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { siblingEntry } from './child-process.js';

/**
 * A worker thread running the module `relative` (without extension) beside `from` (an
 * `import.meta.url`): the compiled `.js` in production; under tsx (tests, from TypeScript
 * sources) the thread registers tsx's loader before importing the `.ts` module.
 */
export function moduleWorker(from: string, relative: string, options: WorkerOptions): Worker {
  const entry = siblingEntry(from, relative);
  if (!entry.endsWith('.ts')) return new Worker(entry, options);
  const url = JSON.stringify(pathToFileURL(entry).href);
  return new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${url}); });`,
    { ...options, eval: true },
  );
}

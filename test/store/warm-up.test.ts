import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { STORE_MAIN } from './process.js';

/**
 * What the store does after it says it is ready (store/main.ts): it builds the search definitions
 * at once, and loads the validator only once a first request has come and a quiet moment followed,
 * so the validator's long steps never delay the first answers. Observed through the store
 * process's own debug log.
 */

interface LogLine {
  time: number;
  msg: string;
}

function startStoreLogging(dir: string): {
  child: ChildProcess;
  lines: LogLine[];
  ready: Promise<string>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', STORE_MAIN], {
    env: {
      ...process.env,
      DATA_DIR: dir,
      LOG_LEVEL: 'debug',
      HEARTH_STORE_PORT: '0',
      STORE_URL: '',
      SQLITE_SYNC: 'normal',
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines: LogLine[] = [];
  let rest = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      if (part.startsWith('{')) lines.push(JSON.parse(part) as LogLine);
    }
  });
  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`the store exited before it was ready (${code})`));
    });
    child.on('message', (m: { ready?: boolean; address?: string }) => {
      if (m.ready === true) resolve(m.address ?? '');
    });
  });
  return { child, lines, ready };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `found` every 50 ms for up to `ms`. */
async function waitFor(found: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !found() && Date.now() < end;) await sleep(50);
}

describe('store warm-up after start', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-warm-up-'));
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('builds the search definitions at once, and loads the validator only after a first request and a quiet moment', async () => {
    const started = startStoreLogging(dir);
    child = started.child;
    const base = await started.ready;
    const has = (msg: string): LogLine | undefined => started.lines.find((l) => l.msg === msg);

    await waitFor(() => has('search definitions built') !== undefined, 30_000);
    assert.ok(has('search definitions built'), 'the search definitions were built after ready');

    // No request yet: the validator stays unloaded however long the store waits.
    await sleep(1_500);
    assert.equal(has('loading the validator'), undefined);

    const requested = Date.now();
    const res = await fetch(`${base}/metadata`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await waitFor(() => has('validator loaded') !== undefined, 60_000);
    const loading = has('loading the validator');
    assert.ok(loading, 'the validator started loading after the first request');
    assert.ok(has('validator loaded'), 'the validator loaded');
    assert.ok(
      loading.time >= requested + 250,
      `loading began ${loading.time - requested} ms after the request`,
    );
  });
});

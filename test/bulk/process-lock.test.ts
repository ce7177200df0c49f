import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LockBusyError, ProcessLock } from '../../gateway/bulk/process-lock.js';

/**
 * The lock that elects the bulk job runner and serialises job admission: one holder at a time,
 * across processes; released by the kernel when a holder is killed.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('ProcessLock (bulk runner and admission lock)', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  const open: ProcessLock[] = [];
  const lock = () => {
    const l = new ProcessLock(file);
    open.push(l);
    return l;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-lock-'));
    file = path.join(dir, 'test.lock');
  });
  afterEach(async () => {
    for (const l of open.splice(0)) l.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has one holder at a time and passes to the next after unlock', () => {
    const a = lock();
    const b = lock();
    assert.equal(a.tryLock(), true);
    assert.equal(b.tryLock(), false);
    a.unlock();
    assert.equal(b.tryLock(), true);
    assert.equal(a.tryLock(), false);
  });

  it('is taken over once its holder is killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { ProcessLock } from './gateway/bulk/process-lock.ts';
         const l = new ProcessLock(${JSON.stringify(file)});
         console.log(l.tryLock() ? 'held' : 'busy');
         setInterval(() => {}, 1000);`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const first = await new Promise<string>((resolve) => {
      child.stdout.once('data', (b: Buffer) => {
        resolve(b.toString().trim());
      });
    });
    assert.equal(first, 'held');
    const mine = lock();
    assert.equal(mine.tryLock(), false, 'held by the other process');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.equal(mine.tryLock(), true, 'released by the kernel');
  });

  it('runs exclusive sections one at a time and gives up after the wait', async () => {
    const a = lock();
    const b = lock();
    let inside = 0;
    let most = 0;
    const section = async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(15);
      inside--;
    };
    await Promise.all([
      a.runExclusive(section, 2000),
      a.runExclusive(section, 2000),
      b.runExclusive(section, 2000),
      b.runExclusive(section, 2000),
    ]);
    assert.equal(most, 1);
    assert.equal(a.tryLock(), true);
    await assert.rejects(b.runExclusive(section, 50), LockBusyError);
    a.unlock();
    await b.runExclusive(section, 50);
  });
});

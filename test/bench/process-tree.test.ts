import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuBetween, cpuOf, treeCpu } from '../../bench/process-tree.js';

describe('bench: CPU of a process tree, from /proc', () => {
  it('counts the CPU a child uses, in all and on its busiest thread', async () => {
    const before = treeCpu(process.pid);
    // burns 300 ms of its own CPU, says so, then waits to be killed (a process that exited is gone)
    const child = spawn(
      process.execPath,
      [
        '-e',
        'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 300000); ' +
          'process.stdout.write("done"); setTimeout(() => {}, 60000);',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(child.stdout, 'data');
      const used = cpuBetween(before, treeCpu(process.pid));
      assert.ok(used.busiestThreadUs >= 250_000, `busiest thread ${used.busiestThreadUs} µs`);
      assert.ok(used.totalUs >= used.busiestThreadUs);
      assert.ok(cpuOf([child.pid ?? 0]).threads.size > 1, 'a node process has several threads');
    } finally {
      child.kill();
    }
  });

  it('leaves out processes that do not exist', () => {
    assert.deepEqual(cpuOf([2 ** 22 + 1]), { totalUs: 0, threads: new Map() });
  });
});

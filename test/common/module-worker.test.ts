import assert from 'node:assert/strict';
import { once } from 'node:events';
import { moduleWorker, processSemiSpaceMb } from '../../common/module-worker.js';

const MiB = 1024 * 1024;

async function youngGeneration(semiSpaceMb?: number): Promise<number> {
  const worker = moduleWorker(
    import.meta.url,
    './support/young-generation-worker',
    semiSpaceMb === undefined ? {} : { semiSpaceMb },
  );
  const [bytes] = (await once(worker, 'message')) as [number];
  await worker.terminate();
  return bytes;
}

describe('common: moduleWorker', function () {
  this.timeout(60_000);

  it('gives a thread the semi-space size asked for, and the next thread the process’s own', async () => {
    const small = await youngGeneration(1);
    assert.ok(
      small > 0 && small <= 2 * MiB,
      `young generation ${small / MiB} MiB with 1 MiB semi-spaces`,
    );
    const own = await youngGeneration();
    assert.ok(own > 2 * MiB, `young generation ${own / MiB} MiB with the process's setting`);
  });

  it('reads the process’s own --max-semi-space-size (0 when it has none)', () => {
    const saved = process.env.NODE_OPTIONS;
    try {
      process.env.NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=100';
      assert.equal(processSemiSpaceMb(), 8);
      process.env.NODE_OPTIONS = '--max-old-space-size=100';
      assert.equal(processSemiSpaceMb(), 0);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { relaunchArgs } from '../../app/heap-relaunch.js';
import { npmStart } from '../../bench/hearth-process.js';
import { loadConfig } from '../../common/config.js';
import {
  heapArgs,
  heapFits,
  heapLimitMib,
  HEAP_BASE_MIB,
  SEMI_SPACE_MIB,
  isHeapArg,
  isHeapLimitArg,
} from '../../common/heap-limit.js';

const MIB = 1024 * 1024;

describe('heap bound derived from MAX_BODY_BYTES', () => {
  it('gives the default MAX_BODY_BYTES (10 MiB) a 576 MiB old generation', () => {
    assert.equal(heapLimitMib(loadConfig({}).maxBodyBytes), 576);
  });

  it('grows by 32 bytes of heap per byte of body, above a fixed base', () => {
    for (const [body, mib] of [
      [1024, HEAP_BASE_MIB + 1],
      [MIB, HEAP_BASE_MIB + 32],
      [16 * MIB, HEAP_BASE_MIB + 512],
      [1024 * MIB, HEAP_BASE_MIB + 32 * 1024],
    ] as const)
      assert.equal(heapLimitMib(body), mib, `MAX_BODY_BYTES=${body}`);
  });

  it('is what npm start and npm run demo (and so the bench) pass to node, with two malloc arenas', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
      scripts: Record<string, string>;
    };
    const flags = heapArgs(loadConfig({}).maxBodyBytes).join(' ');
    assert.equal(pkg.scripts.start, `MALLOC_ARENA_MAX=2 node ${flags} dist/main.js`);
    assert.equal(pkg.scripts.demo, `MALLOC_ARENA_MAX=2 node ${flags} dist/main.js --demo`);
    assert.deepEqual(npmStart(), {
      env: { MALLOC_ARENA_MAX: '2' },
      nodeArgs: heapArgs(loadConfig({}).maxBodyBytes),
    });
  });

  it('counts a V8 heap limit as enough only when it covers the bound', () => {
    const need = heapLimitMib(32 * MIB) * MIB;
    assert.equal(heapFits(need, 32 * MIB), true);
    assert.equal(heapFits(need - 1, 32 * MIB), false);
  });

  it('recognises the old-space flag in both spellings node accepts', () => {
    assert.equal(isHeapLimitArg('--max-old-space-size=576'), true);
    assert.equal(isHeapLimitArg('--max_old_space_size=100'), true);
    assert.equal(isHeapLimitArg('--max-semi-space-size=16'), false);
    assert.equal(isHeapLimitArg('--max-old-space-sizex=1'), false);
  });

  it('counts the semi-space flag with the old-space flag as the heap flags a relaunch replaces', () => {
    assert.equal(isHeapArg('--max-old-space-size=576'), true);
    assert.equal(isHeapArg('--max_semi_space_size=16'), true);
    assert.equal(isHeapArg('--max-semi-space-size=8'), true);
    assert.equal(isHeapArg('--min-semi-space-size=8'), false);
    assert.equal(isHeapArg('--stack-size=900'), false);
  });

  it('gives node a smaller young generation than its default (two 16 MiB semi-spaces)', () => {
    // V8 reports its heap limit as the old-generation bound plus the young generation's.
    const limitMib = (flags: string[]): number =>
      Number(
        execFileSync(process.execPath, [
          ...flags,
          '-p',
          'require("node:v8").getHeapStatistics().heap_size_limit / 1048576',
        ]),
      );
    const flags = heapArgs(loadConfig({}).maxBodyBytes);
    assert.ok(flags.includes(`--max-semi-space-size=${SEMI_SPACE_MIB}`), flags.join(' '));
    const bounded = limitMib(flags);
    const nodeDefault = limitMib(flags.filter((f) => isHeapLimitArg(f)));
    assert.ok(bounded < nodeDefault, `${bounded} MiB with the flags, ${nodeDefault} MiB without`);
  });

  it('relaunches with the same flags, script and arguments, the heap flags replaced', () => {
    assert.deepEqual(
      relaunchArgs(
        ['--import', 'tsx', '--max-old-space-size=576', '--max_semi_space_size=16'],
        ['/usr/bin/node', '/app/dist/main.js', '--demo', '5'],
        64 * MIB,
      ),
      [
        '--import',
        'tsx',
        `--max-old-space-size=${HEAP_BASE_MIB + 2048}`,
        `--max-semi-space-size=${SEMI_SPACE_MIB}`,
        '/app/dist/main.js',
        '--demo',
        '5',
      ],
    );
  });
});

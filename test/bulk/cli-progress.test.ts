import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/hearth.js';

/**
 * `hearth import` and `hearth export` share one progress bar: drawn on a terminal (run under
 * `script`, which gives the command a real pseudo-terminal), absent when the output is piped.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

function inTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const command = [process.execPath, '--import', 'tsx', path.join(root, 'cli/main.ts'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { cwd: root, env: { ...process.env, ...env, COLUMNS: '120' }, timeout: 120_000 },
      (err, stdout) => {
        if (err === null) resolve(stdout);
        else reject(new Error(`script failed: ${err.message}`));
      },
    );
  });
}

describe('hearth import / export progress bars', function () {
  this.timeout(180_000);
  let dir: string;
  let env: Record<string, string>;
  let file: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-progress-'));
    env = { DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' };
    file = path.join(dir, 'patients.ndjson');
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ resourceType: 'Patient', id: `p${i}`, gender: 'unknown' }),
    );
    await writeFile(file, `${lines.join('\n')}\n`);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('draws the bar for hearth import on a terminal, in bytes', async () => {
    const out = await inTerminal(['import', file], env);
    assert.match(out, /100% \| \d+\/\d+ bytes/);
    assert.match(out, /created 300/);
  });

  it('draws the bar for hearth export on a terminal, in resources', async () => {
    const out = await inTerminal(['export', '--out', path.join(dir, 'tty')], env);
    assert.match(out, /100% \| 300\/300 resources/);
    assert.match(out, /300 resources in 1 files/);
  });

  it('stays quiet when the output is piped (and with --json)', async () => {
    for (const args of [
      ['export', '--out', path.join(dir, 'piped')],
      ['export', '--out', path.join(dir, 'json'), '--json'],
      ['import', file],
    ]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /%|█|░/);
      assert.doesNotMatch(r.stdout, /%|█|░/);
    }
  });

  it('keeps the bar silent in a terminal when --json is given', async () => {
    const out = await inTerminal(['export', '--out', path.join(dir, 'tty-json'), '--json'], env);
    assert.doesNotMatch(out, /%/);
    const json = out.split(/\r?\n/).find((l) => l.startsWith('{"files"')) ?? '';
    assert.equal((JSON.parse(json) as { resources: number }).resources, 300);
  });
});

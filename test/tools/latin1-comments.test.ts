import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { latin1Comments, toLatin1 } from '../../tools/latin1-comments.js';

describe('latin1Comments (bundle text that V8 keeps at one byte per character)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-latin1-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const file = async (name: string, text: string): Promise<string> => {
    const f = path.join(dir, name);
    await writeFile(f, text);
    return f;
  };

  it('replaces each code unit beyond Latin-1 by one ASCII character, keeping Latin-1 ones', () => {
    const text = '// it’s 2 µs — ≤ 3 × faster… 😀\n';
    const out = toLatin1(text);
    assert.equal(out, "// it's 2 µs - < 3 × faster. ??\n");
    assert.equal(out.length, text.length);
  });

  it('rewrites the characters of comments and leaves the code as it was', async () => {
    const code =
      'export const a = "\\u2019"; // response’s type — see below\n/* a … b */ export const b = 1;\n';
    const f = await file('comments.js', code);
    assert.equal(await latin1Comments(f), 'rewritten');
    const out = await readFile(f, 'utf8');
    assert.equal(
      out,
      'export const a = "\\u2019"; // response\'s type - see below\n/* a . b */ export const b = 1;\n',
    );
    assert.equal(out.search(/[\u0100-\uffff]/), -1);
  });

  it('refuses a file whose code holds such a character, and leaves it as it was', async () => {
    for (const [name, code] of [
      ['string.js', "export const s = '’';\n"],
      ['raw.js', 'export const r = String.raw`a…b`;\n'],
    ] as const) {
      const f = await file(name, code);
      assert.equal(await latin1Comments(f), 'refused', name);
      assert.equal(await readFile(f, 'utf8'), code, name);
    }
  });

  it('leaves a file that is already Latin-1 untouched', async () => {
    const f = await file('plain.js', 'export const x = "µ"; // 2 µs\n');
    assert.equal(await latin1Comments(f), 'unchanged');
  });
});

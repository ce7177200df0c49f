import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  definitionIndex,
  readDefinition,
  type DefinitionFile,
} from '../../../store/fhir/definitions.js';

const CORPUS = fileURLToPath(new URL('./support/validate-corpus.ts', import.meta.url));

function validateInFreshProcess(mode: 'lazy' | 'all' | 'reverse'): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CORPUS, mode],
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout) => {
        if (err !== null) reject(new Error(`validate-corpus ${mode}: ${err.message}`));
        else resolve(JSON.parse(stdout) as unknown[]);
      },
    );
  });
}

describe('store: R4 definitions read as needed', () => {
  const files: DefinitionFile[] = [
    'profiles-types.json',
    'profiles-resources.json',
    'valuesets.json',
    'v3-codesystems.json',
    'v2-tables.json',
    'search-parameters.json',
  ];
  for (const file of files) {
    it(`reads every entry of ${file} one at a time as a full parse sees it`, () => {
      const full = readDefinition<{ entry: { fullUrl: string; resource: { url?: string } }[] }>(
        file,
      ).entry;
      const index = definitionIndex(file);
      assert.equal(index.entries.length, full.length);
      index.entries.forEach((e, i) => {
        const expected = full[i];
        assert.equal(e.fullUrl, expected?.fullUrl);
        assert.equal(e.url, expected?.resource.url ?? '');
        assert.deepEqual(index.read(e), expected?.resource);
      });
    });
  }

  it('validates every resource as it does with every definition loaded, in any order', async function () {
    this.timeout(300_000);
    const [lazy, all, reverse] = await Promise.all([
      validateInFreshProcess('lazy'),
      validateInFreshProcess('all'),
      validateInFreshProcess('reverse'),
    ]);
    assert.ok(lazy.length > 600);
    // the corpus is not trivially valid: many resources carry issues
    assert.ok(lazy.filter((r) => Array.isArray(r) && r.length > 0).length > 300);
    assert.deepEqual(lazy, all);
    assert.deepEqual(reverse, all);
  });
});

import assert from 'node:assert/strict';
import { entryUrlParts } from '../../store/bundle/entry.js';

/** What every entry URL went through before the plain-URL shortcut: WHATWG URL parsing. */
function viaUrl(relative: string): { path: string[]; query: string } | 'invalid' {
  const parsed = new URL(relative, 'http://entry/');
  try {
    const path = parsed.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    return { path, query: parsed.searchParams.toString() };
  } catch {
    return 'invalid';
  }
}

function mine(relative: string): { path: string[]; query: string } | 'invalid' {
  try {
    const { path, query } = entryUrlParts(relative, 0);
    return { path, query: query.toString() };
  } catch {
    return 'invalid';
  }
}

const URLS = [
  'Patient',
  'Patient/123',
  'Patient/a.b-c',
  'Patient/A-1.2.3',
  'Patient/-',
  'Patient/..',
  'Patient/.',
  'Patient/.hidden',
  'Patient/a..',
  'Patient/1/_history/2',
  'Patient/',
  'Patient//1',
  'Patient/%41',
  'Patient/%zz',
  'Patient/a%2Fb',
  'Patient/a b',
  'Patient/ä',
  'Patient?identifier=urn:mrn|1',
  'Patient/1?_format=json',
  'Patient/1#frag',
  'Patient\\1',
  'Observation/$lastn',
  'Patient/$everything',
  '_history',
  '1Patient/2',
  'Patient/1/',
  'Patient/123456789012345678901234567890123456789012345678901234567890abcd',
];

describe('store bundle: entry URL parts', () => {
  for (const url of URLS) {
    it(`${JSON.stringify(url)} gives what URL parsing gives`, () => {
      assert.deepEqual(mine(url), viaUrl(url));
    });
  }
});

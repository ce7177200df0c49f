import assert from 'node:assert/strict';
import { bearerToken, rememberBearer } from '../../gateway/auth/bearer.js';

/** An equal string that is a different object (as each request's header is). */
const fresh = (s: string): string => `${s} `.slice(0, -1);

describe('bearer token of an Authorization header', () => {
  it('reads the token of RFC 6750 headers and refuses anything else', () => {
    const cases: [string, string | undefined][] = [
      ['Bearer abc.def-_~+/==', 'abc.def-_~+/=='],
      ['bearer   abc', 'abc'],
      ['Basic abc', undefined],
      ['Bearer', undefined],
      ['Bearer a b', undefined],
      ['Bearer a=b', undefined],
    ];
    for (const [header, token] of cases) assert.equal(bearerToken(header), token, header);
  });

  it('hands back the very token string remembered for a verified header', () => {
    const token = fresh('eyJ.remembered.sig');
    rememberBearer(`Bearer ${token}`, token);
    assert.equal(bearerToken(fresh(`Bearer ${token}`)), token);
    assert.ok(Object.is(bearerToken(fresh(`Bearer ${token}`)), token));
  });

  it('does not remember a header padded with spaces, which still reads', () => {
    const token = 'eyJ.padded.sig';
    const padded = `Bearer    ${token}`;
    // (Remembered, it would answer with what was remembered for it.)
    rememberBearer(padded, 'eyJ.other.sig');
    assert.equal(bearerToken(padded), token);
  });
});

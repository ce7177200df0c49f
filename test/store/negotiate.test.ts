import assert from 'node:assert/strict';
import { responseFormat } from '../../store/http/negotiate.js';
import type { StoreRequest } from '../../store/http/types.js';

const request = (accept: string | undefined, query = ''): StoreRequest => ({
  method: 'GET',
  path: ['Patient', '1'],
  query: new URLSearchParams(query),
  headers: accept === undefined ? {} : { accept },
  requestId: 'r',
  trusted: false,
});

describe('store: response format negotiation', () => {
  const cases: [string | undefined, 'fhir' | 'raw' | 406][] = [
    [undefined, 'fhir'],
    ['', 'fhir'],
    ['application/fhir+json', 'fhir'],
    ['application/json', 'fhir'],
    ['json', 'fhir'],
    ['text/json', 'fhir'],
    ['APPLICATION/FHIR+JSON', 'fhir'],
    ['application/fhir+json; fhirVersion=4.0', 'fhir'],
    ['image/png, */*;q=0.1', 'fhir'],
    ['application/fhir+xml', 406],
    ['application/xml, text/html', 406],
    ['image/png', 'raw'],
  ];
  for (const [accept, expected] of cases)
    it(`answers Accept ${accept ?? '(none)'} with ${expected}`, () => {
      if (expected === 406)
        assert.throws(
          () => responseFormat(request(accept)),
          (e: { status?: number }) => e.status === 406,
        );
      else assert.equal(responseFormat(request(accept)), expected);
    });

  it('lets _format decide over Accept', () => {
    assert.equal(responseFormat(request('image/png', '_format=json')), 'fhir');
    assert.throws(() => responseFormat(request('application/fhir+json', '_format=xml')));
  });
});

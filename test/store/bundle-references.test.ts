import assert from 'node:assert/strict';
import { rewriteReferences } from '../../store/bundle/references.js';
import { parseJson, type JsonObject } from '../../store/fhir/json.js';

describe('store: placeholder references of a transaction', () => {
  const map = new Map([['urn:uuid:0b1c', 'Patient/p1']]);

  it('rewrites every string equal to a placeholder and placeholders inside narrative', () => {
    const resource = parseJson(
      '{"resourceType":"List","entry":[{"item":{"reference":"Patient/9"}},{"item":{"reference":"urn:uuid:0b1c"}}],"text":{"div":"<div>see urn:uuid:0b1c</div>"},"note":[{"text":"urn:uuid:0b1c"}]}',
    );
    assert.deepEqual(rewriteReferences(resource, map), {
      resourceType: 'List',
      entry: [{ item: { reference: 'Patient/9' } }, { item: { reference: 'Patient/p1' } }],
      text: { div: '<div>see Patient/p1</div>' },
      note: [{ text: 'Patient/p1' }],
    });
  });

  it('keeps the order of members and leaves the input as it was', () => {
    const text =
      '{"resourceType":"Observation","status":"final","subject":{"reference":"urn:uuid:0b1c"},"code":{"text":"x"}}';
    const resource = parseJson(text);
    const out = rewriteReferences(resource, map) as JsonObject;
    assert.deepEqual(Object.keys(out), ['resourceType', 'status', 'subject', 'code']);
    assert.equal(JSON.stringify(resource), text);
  });

  it('returns what holds no placeholder as it is, and shares unchanged parts with the copy', () => {
    const resource = parseJson(
      '{"resourceType":"Observation","code":{"coding":[{"code":"1"}]},"subject":{"reference":"urn:uuid:0b1c"}}',
    ) as JsonObject;
    const out = rewriteReferences(resource, map) as JsonObject;
    assert.notEqual(out, resource);
    assert.equal(out.code, resource.code);
    const plain = parseJson('{"resourceType":"Patient","name":[{"family":"x"}]}');
    assert.equal(rewriteReferences(plain, map), plain);
  });
});

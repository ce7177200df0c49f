import assert from 'node:assert/strict';
import { shapeJson } from '../../../store/search/results/shape.js';

describe('store/search _summary and _elements', () => {
  const stored =
    '{"resourceType":"Observation","id":"o","status":"final","code":{"text":"c"},"valueQuantity":{"value":0.010,"unit":"mg"},"component":[{"code":{"text":"n"},"valueInteger":12345678901234567890}]}';

  it('returns kept numbers exactly as stored (0.010 stays 0.010, big integers keep every digit)', () => {
    const trimmed = shapeJson(stored, 'Observation', undefined, ['valueQuantity', 'component']);
    assert.match(trimmed, /"value":0\.010,/);
    assert.match(trimmed, /"valueInteger":12345678901234567890\b/);
    assert.doesNotMatch(trimmed, /"status"/);
    assert.match(shapeJson(stored, 'Observation', 'data', undefined), /"value":0\.010,/);
  });
});

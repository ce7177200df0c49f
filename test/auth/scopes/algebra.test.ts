import assert from 'node:assert/strict';
import {
  covers,
  formatScope,
  intersect,
  intersectAll,
  minimise,
  parseScope,
  parseScopes,
  scopesGranting,
  type ClinicalScope,
} from '../../../auth/scopes/index.js';

function c(token: string): ClinicalScope {
  const s = parseScope(token);
  assert.ok(s !== undefined && s.kind === 'clinical', token);
  return s;
}
const lab = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

describe('SMART scope algebra', () => {
  const coverCases: [string, string, boolean][] = [
    ['patient/*.cruds', 'patient/Observation.rs', true],
    ['patient/*.read', 'patient/Observation.rs', true],
    ['patient/Observation.rs', 'patient/Observation.read', true],
    ['patient/Observation.r', 'patient/Observation.rs', false],
    ['patient/Observation.rs', 'user/Observation.rs', false],
    ['patient/Observation.rs', 'patient/Condition.rs', false],
    ['patient/Observation.rs', `patient/Observation.rs?${lab}`, true],
    [`patient/Observation.rs?${lab}`, 'patient/Observation.rs', false],
    [`patient/Observation.rs?${lab}`, `patient/Observation.rs?${lab}&status=final`, true],
    [`patient/Observation.rs?${lab}`, 'patient/Observation.rs?category=vital-signs', false],
    ['user/*.write', 'user/Patient.cud', true],
    ['user/*.write', 'user/Patient.r', false],
  ];
  for (const [granted, requested, expected] of coverCases) {
    it(`${granted} ${expected ? 'covers' : 'does not cover'} ${requested}`, () => {
      assert.equal(covers(c(granted), c(requested)), expected);
    });
  }

  const intersectCases: [string, string, string | undefined][] = [
    ['patient/*.read', 'patient/Observation.rs', 'patient/*.read'.replace('*', 'Observation')],
    ['patient/Observation.rs', 'patient/*.cruds', 'patient/Observation.rs'],
    ['user/*.cruds', 'user/*.rs', 'user/*.rs'],
    ['user/*.*', 'user/*.rs', 'user/*.read'],
    ['patient/Observation.cruds', 'patient/Observation.cud', 'patient/Observation.cud'],
    ['patient/Observation.rs', 'patient/Observation.cud', undefined],
    ['patient/Observation.rs', 'user/Observation.rs', undefined],
    ['patient/Observation.rs', 'patient/Condition.rs', undefined],
    ['patient/Observation.rs', `patient/*.rs?${lab}`, `patient/Observation.rs?${lab}`],
    [
      `patient/Observation.rs?${lab}`,
      'patient/Observation.rs?status=final',
      `patient/Observation.rs?${lab}&status=final`,
    ],
    ['patient/Observation.read', 'patient/Observation.r', 'patient/Observation.r'],
  ];
  for (const [requested, limit, expected] of intersectCases) {
    it(`${requested} ∩ ${limit} = ${expected ?? 'nothing'}`, () => {
      const i = intersect(c(requested), c(limit));
      assert.equal(i === undefined ? undefined : formatScope(i), expected);
    });
  }

  it('keeps the requested version where v1 can express the result', () => {
    const i = intersect(c('patient/Observation.read'), c('patient/*.cruds'));
    assert.equal(i === undefined ? undefined : formatScope(i), 'patient/Observation.read');
  });

  it('intersects lists and minimises the union', () => {
    const requested = parseScopes(
      'patient/Observation.rs patient/Condition.rs patient/Patient.rs',
    ).clinical;
    const limits = parseScopes('patient/*.rs patient/Observation.r').clinical;
    assert.deepEqual(
      intersectAll(requested, limits).map((s) => formatScope(s)),
      ['patient/Observation.rs', 'patient/Condition.rs', 'patient/Patient.rs'],
    );
  });

  it('minimise drops duplicates and covered scopes but keeps incomparable ones', () => {
    const list = parseScopes(
      `user/*.rs user/Observation.rs user/Observation.rs patient/Observation.rs?${lab} patient/Observation.cu`,
    ).clinical;
    assert.deepEqual(
      minimise(list).map((s) => formatScope(s)),
      ['user/*.rs', `patient/Observation.rs?${lab}`, 'patient/Observation.cu'],
    );
  });

  it('finds the scopes granting a permission on a type, by context', () => {
    const list = parseScopes(
      `patient/*.rs user/Observation.rs patient/Observation.rs?${lab} patient/Condition.c`,
    ).clinical;
    assert.deepEqual(
      scopesGranting(list, 'Observation', 'r').map((s) => formatScope(s)),
      ['patient/*.rs', 'user/Observation.rs', `patient/Observation.rs?${lab}`],
    );
    assert.deepEqual(
      scopesGranting(list, 'Observation', 'r', 'user').map((s) => formatScope(s)),
      ['user/Observation.rs'],
    );
    assert.deepEqual(scopesGranting(list, 'Condition', 'u'), []);
  });
});

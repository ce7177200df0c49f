import assert from 'node:assert/strict';
import {
  formatScope,
  formatScopes,
  parseScope,
  parseScopes,
  type ClinicalScope,
} from '../../../auth/scopes/index.js';

function clinical(token: string): ClinicalScope {
  const s = parseScope(token);
  assert.ok(s !== undefined && s.kind === 'clinical', `${token} should parse as clinical`);
  return s;
}

const letters = (s: ClinicalScope) =>
  ['c', 'r', 'u', 'd', 's'].filter((p) => s.permissions.has(p as 'c')).join('');

describe('SMART scope grammar', () => {
  const valid: [string, string, string, string, 1 | 2, string][] = [
    // token, context, type, permissions, version, canonical query
    ['patient/Observation.read', 'patient', 'Observation', 'rs', 1, ''],
    ['user/*.*', 'user', '*', 'cruds', 1, ''],
    ['system/Patient.write', 'system', 'Patient', 'cud', 1, ''],
    ['patient/Observation.rs', 'patient', 'Observation', 'rs', 2, ''],
    ['user/*.cruds', 'user', '*', 'cruds', 2, ''],
    ['patient/Condition.r', 'patient', 'Condition', 'r', 2, ''],
    ['system/Encounter.s', 'system', 'Encounter', 's', 2, ''],
    [
      'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory',
      'patient',
      'Observation',
      'rs',
      2,
      'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory',
    ],
    [
      'patient/Observation.rs?status=final&category=vital-signs',
      'patient',
      'Observation',
      'rs',
      2,
      'category=vital-signs&status=final',
    ],
  ];
  for (const [token, context, type, perms, version, query] of valid) {
    it(`parses ${token}`, () => {
      const s = clinical(token);
      assert.equal(s.context, context);
      assert.equal(s.resourceType, type);
      assert.equal(letters(s), perms);
      assert.equal(s.version, version);
      assert.equal(s.query.map(([n, v]) => `${n}=${v}`).join('&'), query);
    });
  }

  const invalid = [
    'patient/Observation.sr', // v2 letters out of order
    'patient/Observation.rr',
    'patient/Observation.',
    'patient/observation.rs', // type must be capitalised
    'practitioner/Observation.rs',
    'patient/Observation.read?category=x', // v1 has no granular form
    'patient/Observation.rs?', // empty query
    'patient/Observation.rs?category', // no value
    'patient/Observation.rs?category=%E0%A4%A', // bad escape
    'Observation.rs',
    'launch/other',
    '',
  ];
  for (const token of invalid) {
    it(`rejects ${JSON.stringify(token)}`, () => {
      assert.equal(parseScope(token), undefined);
    });
  }

  it('recognises every static SMART scope', () => {
    const parsed = parseScopes(
      'openid fhirUser profile launch launch/patient launch/encounter offline_access online_access',
    );
    assert.deepEqual(parsed.static, [
      'openid',
      'fhirUser',
      'profile',
      'launch',
      'launch/patient',
      'launch/encounter',
      'offline_access',
      'online_access',
    ]);
    assert.equal(parsed.clinical.length, 0);
    assert.deepEqual(parsed.unknown, []);
  });

  it('splits a scope string into clinical, static and unknown tokens', () => {
    const parsed = parseScopes('  openid patient/Patient.rs   bogus user/*.read openid ');
    assert.deepEqual(parsed.static, ['openid']);
    assert.deepEqual(
      parsed.clinical.map((s) => formatScope(s)),
      ['patient/Patient.rs', 'user/*.read'],
    );
    assert.deepEqual(parsed.unknown, ['bogus']);
  });

  const formats: [string, string][] = [
    ['patient/Observation.read', 'patient/Observation.read'],
    ['user/*.*', 'user/*.*'],
    ['user/*.write', 'user/*.write'],
    ['patient/Observation.rs', 'patient/Observation.rs'],
    [
      'patient/Observation.rs?status=final&category=vital-signs',
      'patient/Observation.rs?category=vital-signs&status=final',
    ],
    [
      'patient/Observation.rs?code=http://loinc.org|8302-2',
      'patient/Observation.rs?code=http://loinc.org|8302-2',
    ],
    ['patient/Observation.rs?note=a%26b', 'patient/Observation.rs?note=a%26b'],
  ];
  for (const [input, output] of formats) {
    it(`formats ${input} as ${output}`, () => {
      assert.equal(formatScope(clinical(input)), output);
    });
  }

  it('writes a v1 scope in v2 when v1 cannot say its permissions', () => {
    const s = { ...clinical('patient/Observation.read'), permissions: new Set(['r' as const]) };
    assert.equal(formatScope(s), 'patient/Observation.r');
  });

  it('formats a mixed list without duplicates', () => {
    const parsed = parseScopes('patient/Patient.rs patient/Patient.rs');
    assert.equal(
      formatScopes(['openid', ...parsed.clinical, 'launch']),
      'openid patient/Patient.rs launch',
    );
  });
});

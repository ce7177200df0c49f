import assert from 'node:assert/strict';
import { grantScopes, grantable, type GrantInput } from '../../auth/grant/grant-scopes.js';
import { granularOptions } from '../../auth/grant/granular-options.js';
import { roleCatalog, BUILT_IN_ROLES } from '../../auth/roles/index.js';
import { parseScope, type ClinicalScope } from '../../auth/scopes/index.js';

const roles = roleCatalog(BUILT_IN_ROLES);
const smart = roles.limits(['fhir-smart-user']);
const reader = roles.limits(['fhir-data-reader']);
const lab = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

function input(over: Partial<GrantInput>): GrantInput {
  return {
    requested: '',
    clientAllowed: undefined,
    roleLimits: smart,
    flow: 'user',
    refreshAllowed: true,
    ...over,
  };
}

describe('granting function', () => {
  const cases: [string, Partial<GrantInput>, string][] = [
    [
      'grants what is requested when nothing narrows it',
      { requested: 'openid fhirUser patient/Observation.rs' },
      'openid fhirUser patient/Observation.rs',
    ],
    [
      'keeps v1 scopes in v1',
      { requested: 'launch/patient patient/Observation.read user/*.read' },
      'launch/patient patient/Observation.read user/*.read',
    ],
    [
      'writes a v1 scope in v2 when the grant is narrower than v1 can say',
      {
        requested: 'patient/Observation.read',
        roleLimits: roles.limits(['fhir-data-reader']),
        clientAllowed: 'patient/Observation.r',
      },
      'patient/Observation.r',
    ],
    [
      'narrows a wildcard to the client registration',
      { requested: 'patient/*.rs', clientAllowed: 'patient/Observation.rs patient/Condition.rs' },
      'patient/Observation.rs patient/Condition.rs',
    ],
    [
      'narrows permissions to what the roles permit',
      { requested: 'user/*.cruds', roleLimits: reader },
      'user/*.rs',
    ],
    [
      'narrows v1 write+read (*) to read for a reader, still v1',
      { requested: 'user/Patient.*', roleLimits: reader },
      'user/Patient.read',
    ],
    [
      'drops scopes no role permits',
      { requested: 'openid user/Patient.rs', roleLimits: [] },
      'openid',
    ],
    [
      'drops static scopes the client may not have',
      {
        requested: 'openid fhirUser launch/patient offline_access',
        clientAllowed: 'openid launch/patient',
      },
      'openid launch/patient',
    ],
    [
      'drops offline_access and online_access without refresh_token grant',
      { requested: 'openid offline_access online_access', refreshAllowed: false },
      'openid',
    ],
    [
      'never grants system/ scopes to a user flow',
      {
        requested: 'system/*.rs patient/*.rs',
        roleLimits: roles.limits(['fhir-data-contributor']),
      },
      'patient/*.rs',
    ],
    [
      'grants only system/ scopes to backend services, no statics',
      { requested: 'openid system/*.rs patient/*.rs', flow: 'system', roleLimits: reader },
      'system/*.rs',
    ],
    [
      'bounds backend services by the client roles',
      { requested: 'system/*.cruds', flow: 'system', roleLimits: reader },
      'system/*.rs',
    ],
    [
      'keeps a granular ?query scope',
      { requested: `patient/Observation.rs?${lab}` },
      `patient/Observation.rs?${lab}`,
    ],
    [
      'narrows a whole type by a granular client registration',
      { requested: 'patient/Observation.rs', clientAllowed: `patient/Observation.rs?${lab}` },
      `patient/Observation.rs?${lab}`,
    ],
    [
      'drops unknown and malformed scopes',
      { requested: 'openid bogus patient/observation.rs patient/Observation.xyz' },
      'openid',
    ],
    [
      'drops user/ scopes for a Patient user',
      { requested: 'patient/*.rs user/*.rs', patientUser: true },
      'patient/*.rs',
    ],
    [
      'gives audit readers AuditEvent only',
      { requested: 'user/*.rs', roleLimits: roles.limits(['fhir-audit-reader']) },
      'user/AuditEvent.rs',
    ],
    [
      'removes scopes another granted scope already covers',
      { requested: 'patient/*.rs patient/Observation.rs' },
      'patient/*.rs',
    ],
    [
      'narrows the grant to the user choice',
      {
        requested: 'openid fhirUser patient/Observation.rs patient/Condition.rs',
        userChoice: ['openid', 'patient/Condition.rs'],
      },
      'openid patient/Condition.rs',
    ],
    [
      'grants a granular category the user chose instead of the whole type',
      { requested: 'patient/Observation.rs', userChoice: [`patient/Observation.rs?${lab}`] },
      `patient/Observation.rs?${lab}`,
    ],
    [
      'never grants more than grantable even if the user sends more',
      {
        requested: 'patient/Observation.rs',
        userChoice: [
          'patient/Observation.rs',
          'patient/Condition.rs',
          'user/*.cruds',
          'offline_access',
        ],
      },
      'patient/Observation.rs',
    ],
    [
      'narrows a user choice wider than the grantable scope',
      { requested: 'patient/Observation.rs', userChoice: ['patient/*.cruds'] },
      'patient/Observation.rs',
    ],
    [
      'grants nothing when the user unchecks everything',
      { requested: 'openid patient/*.rs', userChoice: [] },
      '',
    ],
  ];
  for (const [name, over, expected] of cases) {
    it(name, () => {
      assert.equal(grantScopes(input(over)).scope, expected);
    });
  }

  it('computes the grantable set without a user choice', () => {
    assert.equal(
      grantable(input({ requested: 'openid user/*.*', roleLimits: reader })).scope,
      'openid user/*.read',
    );
  });
});

describe('granular consent options', () => {
  function clinical(s: string): ClinicalScope {
    const p = parseScope(s);
    assert.ok(p?.kind === 'clinical');
    return p;
  }
  it('offers US Core Observation categories for a whole-type Observation scope', () => {
    const values = granularOptions(clinical('patient/Observation.rs')).map((o) => o.value);
    assert.ok(values.includes(`patient/Observation.rs?${lab}`));
    assert.ok(
      values.includes(
        'patient/Observation.rs?category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh',
      ),
    );
  });
  it('offers Condition categories in v2 form for a v1 Condition scope', () => {
    const values = granularOptions(clinical('patient/Condition.read')).map((o) => o.value);
    assert.ok(
      values.includes(
        'patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item',
      ),
    );
  });
  it('offers nothing for wildcard, other types or already granular scopes', () => {
    assert.deepEqual(granularOptions(clinical('patient/*.rs')), []);
    assert.deepEqual(granularOptions(clinical('patient/Patient.rs')), []);
    assert.deepEqual(granularOptions(clinical(`patient/Observation.rs?${lab}`)), []);
  });
});

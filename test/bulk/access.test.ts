import assert from 'node:assert/strict';
import { isFhirError } from '../../store/index.js';
import type { Principal } from '../../gateway/auth/principal.js';
import { grantsFromScopes } from '../../gateway/authz/grants.js';
import { RoleSet } from '../../gateway/authz/roles.js';
import { bulkAccess, readFilters } from '../../gateway/bulk/access.js';

/** Who may run bulk jobs: system/ scopes and the exporter / importer data actions only. */

const roles = new RoleSet();

function principal(scopes: string[], roleNames: string[], patient?: string): Principal {
  return {
    sub: 'c',
    clientId: 'c',
    fhirUser: undefined,
    patient,
    scopes,
    roles: roleNames,
    exp: 0,
    claims: {},
  };
}

function status(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    assert.ok(isFhirError(err));
    return err.status;
  }
}

describe('bulk data access', () => {
  const cases: [string, string[], string[], 'export' | 'import', number][] = [
    [
      'allows system/*.rs with the exporter role',
      ['system/*.rs'],
      ['fhir-data-exporter'],
      'export',
      200,
    ],
    [
      'allows the contributor role to export',
      ['system/*.rs'],
      ['fhir-data-contributor'],
      'export',
      200,
    ],
    ['refuses a patient-scoped token', ['patient/*.rs'], ['fhir-data-exporter'], 'export', 403],
    ['refuses a user-scoped token', ['user/*.rs'], ['fhir-data-exporter'], 'export', 403],
    [
      'refuses a reader without the export data action',
      ['system/*.rs'],
      ['fhir-data-reader'],
      'export',
      403,
    ],
    [
      'refuses import to the exporter role',
      ['system/*.cruds'],
      ['fhir-data-exporter'],
      'import',
      403,
    ],
    [
      'allows import to the importer role with write scopes',
      ['system/*.cruds'],
      ['fhir-data-importer'],
      'import',
      200,
    ],
    [
      'refuses import when the only scopes are granular filters',
      ['system/Patient.rs?gender=male'],
      ['fhir-data-importer'],
      'import',
      403,
    ],
  ];
  for (const [name, scopes, roleNames, action, expected] of cases) {
    it(name, () => {
      const p = principal(scopes, roleNames);
      assert.equal(
        status(() => bulkAccess(p, grantsFromScopes(scopes), roles, action, 'x')),
        expected,
      );
    });
  }

  it('refuses a token carrying a patient launch context', () => {
    const p = principal(['system/*.rs'], ['fhir-data-exporter'], '123');
    assert.equal(
      status(() => bulkAccess(p, grantsFromScopes(p.scopes), roles, 'export', 'x')),
      403,
    );
  });

  it('limits readable types to the scopes and keeps granular filters', () => {
    const scopes = ['system/Patient.rs', 'system/Observation.rs?category=laboratory'];
    const a = bulkAccess(
      principal(scopes, ['fhir-data-exporter']),
      grantsFromScopes(scopes),
      roles,
      'export',
      'x',
    );
    assert.equal(readFilters(a, 'Patient'), undefined);
    assert.deepEqual(readFilters(a, 'Observation'), ['category=laboratory']);
    assert.equal(readFilters(a, 'Condition'), null);
  });
});

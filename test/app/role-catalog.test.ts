import assert from 'node:assert/strict';
import { roleCatalogFrom } from '../../app/role-catalog.js';
import { RoleSet, parseRolesFile } from '../../gateway/index.js';

describe('role catalog for auth, derived from the gateway roles', () => {
  const catalog = roleCatalogFrom(
    new RoleSet(
      parseRolesFile(
        JSON.stringify({
          roles: [
            {
              name: 'lab-writer',
              dataActions: ['read', 'write'],
              notDataActions: [],
              scopes: ['/'],
              resourceTypes: ['Observation', 'DiagnosticReport'],
            },
          ],
        }),
        'test',
      ),
    ),
  );

  const cases: [string[], string[]][] = [
    [['fhir-data-reader'], ['patient/*.rs', 'user/*.rs', 'system/*.rs']],
    [['fhir-smart-user'], ['patient/*.rs', 'user/*.rs', 'system/*.rs']],
    [['fhir-data-contributor'], ['patient/*.cruds', 'user/*.cruds', 'system/*.cruds']],
    [['fhir-audit-reader'], ['user/AuditEvent.rs', 'system/AuditEvent.rs']],
    [
      ['lab-writer'],
      [
        'patient/Observation.crus',
        'patient/DiagnosticReport.crus',
        'user/Observation.crus',
        'user/DiagnosticReport.crus',
        'system/Observation.crus',
        'system/DiagnosticReport.crus',
      ],
    ],
    [['no-such-role'], []],
  ];
  for (const [roles, limits] of cases) {
    it(`lets ${roles.join('+')} be granted ${limits.join(' ') || 'nothing'}`, () => {
      assert.deepEqual(catalog.limits(roles), limits);
    });
  }

  it('names every built-in and custom role', () => {
    for (const name of ['fhir-data-reader', 'fhir-audit-reader', 'lab-writer'])
      assert.ok(catalog.names.includes(name), name);
  });
});

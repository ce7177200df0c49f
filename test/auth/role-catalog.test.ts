import assert from 'node:assert/strict';
import {
  BUILT_IN_ROLES,
  parseRolesFile,
  roleCatalog,
  roleDefinitions,
  RolesFileError,
} from '../../auth/roles/index.js';

const LAB_WRITER = {
  name: 'lab-writer',
  dataActions: ['read', 'write'],
  notDataActions: [],
  scopes: ['/'],
  resourceTypes: ['Observation', 'DiagnosticReport'],
};

function custom(roles: object[]): ReturnType<typeof parseRolesFile> {
  return parseRolesFile(JSON.stringify({ roles }), 'test');
}

describe('role catalog: the SMART scopes each role can ever allow', () => {
  const catalog = roleCatalog(
    roleDefinitions(
      custom([
        LAB_WRITER,
        { name: 'no-hard-delete', dataActions: ['*'], notDataActions: ['delete', 'hardDelete'] },
      ]),
    ),
  );
  const everywhere = (p: string): string[] =>
    ['patient', 'user', 'system'].map((c) => `${c}/*.${p}`);

  const cases: [string[], string[]][] = [
    [['fhir-data-reader'], everywhere('rs')],
    [['fhir-data-writer'], everywhere('cruds')],
    [['fhir-data-contributor'], everywhere('cruds')],
    [['fhir-data-exporter'], everywhere('rs')],
    [['fhir-data-importer'], everywhere('rs')],
    [['fhir-smart-user'], everywhere('rs')],
    [['fhir-audit-reader'], ['user/AuditEvent.rs', 'system/AuditEvent.rs']],
    [
      ['fhir-data-reader', 'fhir-audit-reader'],
      [...everywhere('rs'), 'user/AuditEvent.rs', 'system/AuditEvent.rs'],
    ],
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
    [['no-hard-delete'], everywhere('crus')],
    [['no-such-role'], []],
    [[], []],
  ];
  for (const [roles, limits] of cases) {
    it(`lets ${roles.join('+') || 'no role'} be granted ${limits.join(' ') || 'nothing'}`, () => {
      assert.deepEqual(catalog.limits(roles), limits);
    });
  }

  it('names every built-in role, then the custom ones', () => {
    assert.deepEqual(catalog.names, [
      ...BUILT_IN_ROLES.map((r) => r.name),
      'lab-writer',
      'no-hard-delete',
    ]);
  });
});

describe('role definitions', () => {
  it('refuses a ROLES_FILE role that redefines a built-in one', () => {
    assert.throws(
      () => roleDefinitions(custom([{ name: 'fhir-data-reader', dataActions: ['*'] }])),
      (err: unknown) =>
        err instanceof RolesFileError && err.message === 'role fhir-data-reader is defined twice',
    );
  });

  it('refuses a role defined twice in ROLES_FILE', () => {
    assert.throws(
      () => roleDefinitions(custom([LAB_WRITER, LAB_WRITER])),
      /^RolesFileError: role lab-writer is defined twice$/,
    );
  });

  const bad: [string, object, RegExp][] = [
    [
      'an unknown data action',
      { name: 'x', dataActions: ['fly'] },
      /role x: unknown data action "fly"/,
    ],
    [
      'an unknown denied data action',
      { name: 'x', dataActions: ['read'], notDataActions: ['walk'] },
      /role x: unknown data action "walk"/,
    ],
    [
      'an unknown resource type',
      { name: 'x', dataActions: ['read'], resourceTypes: ['observation'] },
      /role x: unknown resource type "observation"/,
    ],
    [
      'a scope other than "/"',
      { name: 'x', dataActions: ['read'], scopes: ['/Patient'] },
      /only the scope "\/"/,
    ],
    ['a nameless role', { dataActions: ['read'] }, /^test: roles\.0\.name /],
  ];
  for (const [what, role, message] of bad) {
    it(`refuses ${what} in ROLES_FILE`, () => {
      assert.throws(
        () => custom([role]),
        (err: unknown) => {
          assert.ok(err instanceof RolesFileError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('refuses a ROLES_FILE that is not JSON', () => {
    assert.throws(() => parseRolesFile('{roles', 'test'), /^RolesFileError: test: not JSON/);
  });
});

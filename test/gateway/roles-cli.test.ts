import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './support/temp.js';

function hearth(env: Record<string, string>, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('hearth roles', () => {
  it('prints every built-in and custom role with its data actions', () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'roles.json');
      writeFileSync(
        file,
        JSON.stringify({
          roles: [
            {
              name: 'lab-writer',
              dataActions: ['read', 'write'],
              notDataActions: ['delete'],
              scopes: ['/'],
              resourceTypes: ['Observation', 'DiagnosticReport'],
            },
          ],
        }),
      );
      const res = hearth({ DATA_DIR: t.dir, ROLES_FILE: file }, ['--json', 'roles']);
      assert.equal(res.status, 0, res.stderr);
      const roles = JSON.parse(res.stdout) as {
        name: string;
        dataActions: string[];
        azureDataActions: string[];
        resourceTypes?: string[];
      }[];
      assert.deepEqual(
        roles.map((r) => r.name),
        [
          'fhir-data-reader',
          'fhir-data-writer',
          'fhir-data-contributor',
          'fhir-data-exporter',
          'fhir-data-importer',
          'fhir-smart-user',
          'fhir-audit-reader',
          'lab-writer',
        ],
      );
      const reader = roles.find((r) => r.name === 'fhir-data-reader');
      assert.deepEqual(reader?.dataActions.sort(), ['read', 'readById', 'search']);
      assert.ok(
        reader?.azureDataActions.includes(
          'Microsoft.HealthcareApis/workspaces/fhirservices/resources/read',
        ),
      );
      const lab = roles.find((r) => r.name === 'lab-writer');
      assert.deepEqual(lab?.resourceTypes, ['Observation', 'DiagnosticReport']);
      assert.ok(lab?.dataActions.includes('create'));
      const audit = roles.find((r) => r.name === 'fhir-audit-reader');
      assert.deepEqual(audit?.dataActions, ['auditRead']);
    } finally {
      t.cleanup();
    }
  });

  it('fails with a one-line reason on a bad ROLES_FILE', () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'roles.json');
      writeFileSync(file, JSON.stringify({ roles: [{ name: 'x', dataActions: ['fly'] }] }));
      const res = hearth({ DATA_DIR: t.dir, ROLES_FILE: file }, ['roles']);
      assert.equal(res.status, 1);
      assert.match(res.stderr, /^hearth: .*unknown data action "fly"\n$/);
    } finally {
      t.cleanup();
    }
  });
});

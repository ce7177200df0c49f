import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../../cli/output.js';
import { runGatewayCli } from './support/run-cli.js';
import { tempDir } from './support/temp.js';

describe('hearth roles', () => {
  it('prints every built-in and custom role with its data actions', async () => {
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
      const res = await runGatewayCli(t.dir, ['--json', 'roles'], { ROLES_FILE: file });
      assert.equal(res.error, undefined);
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
        reader.azureDataActions.includes(
          'Microsoft.HealthcareApis/workspaces/fhirservices/resources/read',
        ),
      );
      const lab = roles.find((r) => r.name === 'lab-writer');
      assert.deepEqual(lab?.resourceTypes, ['Observation', 'DiagnosticReport']);
      assert.ok(lab.dataActions.includes('create'));
      const audit = roles.find((r) => r.name === 'fhir-audit-reader');
      assert.deepEqual(audit?.dataActions, ['auditRead']);
    } finally {
      t.cleanup();
    }
  });

  it('fails with a one-line reason on a bad ROLES_FILE', async () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'roles.json');
      writeFileSync(file, JSON.stringify({ roles: [{ name: 'x', dataActions: ['fly'] }] }));
      const res = await runGatewayCli(t.dir, ['roles'], { ROLES_FILE: file });
      assert.ok(res.error instanceof CliError);
      assert.match(res.error.message, /^ROLES_FILE .*: role x: unknown data action "fly"$/);
    } finally {
      t.cleanup();
    }
  });
});

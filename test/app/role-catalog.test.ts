import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { roleCatalogOf } from '../../app/role-catalog.js';
import { BUILT_IN_ROLES, openAdmin } from '../../auth/index.js';
import { loadConfig, type Config } from '../../common/config.js';
import { RoleSet } from '../../gateway/index.js';

describe("the CLI's role catalog and the server's", function () {
  this.timeout(30_000);
  let dir: string;
  let rolesFile: string;
  const configWith = (roles: object): Config => {
    fs.writeFileSync(rolesFile, JSON.stringify(roles));
    return loadConfig(
      { DATA_DIR: dir, LOG_LEVEL: 'silent', SQLITE_SYNC: 'normal', ROLES_FILE: rolesFile },
      dir,
    );
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-roles-'));
    rolesFile = path.join(dir, 'roles.json');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the same roles and gives each the same limits, built-in and ROLES_FILE ones', async () => {
    const config = configWith({
      roles: [
        {
          name: 'lab-writer',
          dataActions: ['read', 'write'],
          notDataActions: ['delete'],
          scopes: ['/'],
          resourceTypes: ['Observation'],
        },
      ],
    });
    // What the server passes createAuth: derived from the RoleSet the gateway enforces.
    const server = roleCatalogOf(RoleSet.fromFile(config.rolesFile));
    // What `hearth user|client …` validates and bounds with.
    const admin = await openAdmin(config);
    try {
      const cli = admin.roles;
      assert.deepEqual(cli.names, [...BUILT_IN_ROLES.map((r) => r.name), 'lab-writer']);
      assert.deepEqual(cli.names, server.names);
      for (const name of cli.names)
        assert.deepEqual(cli.limits([name]), server.limits([name]), name);
      assert.deepEqual(cli.limits(cli.names), server.limits(server.names));
      // The roles whose definitions used to differ between auth and the gateway.
      for (const name of ['fhir-data-importer', 'fhir-smart-user'])
        assert.deepEqual(cli.limits([name]), ['patient/*.rs', 'user/*.rs', 'system/*.rs'], name);
      assert.deepEqual(cli.limits(['lab-writer']), [
        'patient/Observation.crus',
        'user/Observation.crus',
        'system/Observation.crus',
      ]);
      await admin.users.add({
        username: 'lab',
        password: 'correct horse battery',
        roles: ['lab-writer'],
      });
    } finally {
      await admin.close();
    }
  });

  it('refuses a bad ROLES_FILE with the same reason as the server', async () => {
    const config = configWith({ roles: [{ name: 'fhir-data-reader', dataActions: ['*'] }] });
    assert.throws(
      () => RoleSet.fromFile(config.rolesFile),
      /role fhir-data-reader is defined twice/,
    );
    await assert.rejects(openAdmin(config), /role fhir-data-reader is defined twice/);
  });
});

import { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { CliError, print, readStdin } from '../../cli/output.js';
import { openAdmin, type Admin } from './admin.js';

/** Runs `fn` on the admin stores, turning refusals into a one-line CLI failure. */
export async function withAdmin<T>(
  getConfig: () => Config,
  fn: (admin: Admin) => Promise<T> | T,
): Promise<T> {
  const admin = await openAdmin(getConfig());
  try {
    return await fn(admin);
  } catch (err) {
    if (err instanceof Error && (err.name === 'AccountError' || err.name === 'ClientError')) {
      throw new CliError(err.message);
    }
    throw err;
  } finally {
    await admin.close();
  }
}

async function password(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (opts.password !== undefined && opts.passwordStdin === true) {
    throw new CliError('give either --password or --password-stdin, not both');
  }
  if (opts.password !== undefined) return opts.password;
  if (opts.passwordStdin === true) return readStdin();
  throw new CliError('a password is required: --password P or --password-stdin');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `hearth user add|list|disable|enable|remove|passwd|roles`. */
export function userCommands(program: Command, getConfig: () => Config): void {
  const user = program.command('user').description('local accounts');

  user
    .command('add')
    .description('create an account')
    .requiredOption('--username <name>', 'sign-in name')
    .option(
      '--password <password>',
      'the password (visible in the process list; prefer --password-stdin)',
    )
    .option('--password-stdin', 'read the password from stdin')
    .option('--fhir-user <ref>', 'Practitioner/ID or Patient/ID')
    .option('--role <role>', 'a role (repeatable)', collect, [])
    .action(
      async (
        opts: {
          username: string;
          password?: string;
          passwordStdin?: boolean;
          fhirUser?: string;
          role: string[];
        },
        cmd: Command,
      ) => {
        const pw = await password(opts);
        const created = await withAdmin(getConfig, (a) =>
          a.users.add({
            username: opts.username,
            password: pw,
            fhirUser: opts.fhirUser,
            roles: opts.role,
          }),
        );
        print(cmd, { username: created.username }, `user ${created.username} added`);
      },
    );

  user
    .command('list')
    .description('list accounts')
    .action(async (_opts: unknown, cmd: Command) => {
      const users = await withAdmin(getConfig, (a) => a.users.list());
      const rows = users.map((u) => ({
        username: u.username,
        fhirUser: u.fhirUser ?? null,
        roles: u.roles,
        enabled: u.enabled,
      }));
      print(
        cmd,
        rows,
        rows
          .map(
            (u) =>
              `${u.username}\t${u.enabled ? 'enabled' : 'disabled'}\t${u.fhirUser ?? '-'}\t${u.roles.join(',')}`,
          )
          .join('\n') || '(no users)',
      );
    });

  const simple = (
    name: string,
    description: string,
    fn: (a: Admin, username: string) => Promise<void>,
  ) =>
    user
      .command(`${name} <username>`)
      .description(description)
      .action(async (username: string, _opts: unknown, cmd: Command) => {
        await withAdmin(getConfig, (a) => fn(a, username));
        print(cmd, {}, `user ${username}: ${name} done`);
      });
  simple('disable', 'disable an account (its tokens stop working at once)', (a, u) =>
    a.users.setEnabled(u, false),
  );
  simple('enable', 'enable an account', (a, u) => a.users.setEnabled(u, true));
  simple('remove', 'remove an account (its tokens stop working at once)', (a, u) =>
    a.users.remove(u),
  );

  user
    .command('passwd <username>')
    .description('set a new password')
    .option('--password <password>', 'the password')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      async (
        username: string,
        opts: { password?: string; passwordStdin?: boolean },
        cmd: Command,
      ) => {
        const pw = await password(opts);
        await withAdmin(getConfig, (a) => a.users.setPassword(username, pw));
        print(cmd, {}, `password of ${username} changed`);
      },
    );

  user
    .command('roles <username> [roles...]')
    .description("replace an account's roles (none: no roles)")
    .action(async (username: string, roles: string[], _opts: unknown, cmd: Command) => {
      await withAdmin(getConfig, (a) => a.users.setRoles(username, roles));
      print(cmd, {}, `roles of ${username}: ${roles.join(', ') || '(none)'}`);
    });
}

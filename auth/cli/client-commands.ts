import fs from 'node:fs';
import { Command, Option } from 'commander';
import type { JWK } from 'oidc-provider';
import type { Config } from '../../common/config.js';
import { CliError, print } from '../../cli/output.js';
import type { ClientAuthMethod } from '../clients/clients.js';
import { withAdmin } from './user-commands.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface AddOptions {
  name: string;
  redirectUri: string[];
  launchUri?: string;
  scope?: string;
  public?: boolean;
  secret?: boolean;
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  jwksUri?: string;
  jwksFile?: string;
  grantType: string[];
  role: string[];
}

function readJwks(file: string): { keys: JWK[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(
      `cannot read --jwks-file ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const keys = (parsed as { keys?: unknown }).keys ?? [parsed];
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    !keys.every((k) => typeof k === 'object' && k !== null)
  ) {
    throw new CliError('--jwks-file must hold a JWK Set {"keys":[…]} or one JWK');
  }
  for (const k of keys as Record<string, unknown>[]) {
    if ('d' in k || 'k' in k) throw new CliError('--jwks-file must hold public keys only');
  }
  return { keys: keys as JWK[] };
}

function authMethod(o: AddOptions): ClientAuthMethod {
  const kinds = [
    o.public === true,
    o.secret === true,
    o.jwksUri !== undefined,
    o.jwksFile !== undefined,
  ].filter(Boolean);
  if (kinds.length !== 1)
    throw new CliError('give exactly one of --public, --secret, --jwks-uri, --jwks-file');
  if (o.authMethod !== undefined && o.secret !== true)
    throw new CliError('--auth-method goes with --secret');
  if (o.public === true) return 'none';
  if (o.secret === true) return o.authMethod ?? 'client_secret_basic';
  return 'private_key_jwt';
}

/** `hearth client add|list|remove`. */
export function clientCommands(program: Command, getConfig: () => Config): void {
  const client = program
    .command('client')
    .description('registered SMART apps and backend services');

  client
    .command('add')
    .description('register a client')
    .requiredOption('--name <name>', 'display name')
    .option('--redirect-uri <uri>', 'an exact redirect URI (repeatable)', collect, [])
    .option('--launch-uri <uri>', 'the app launch URL (EHR launch)')
    .option('--scope <scopes>', 'the scopes it may be granted (default: any, within roles)')
    .option('--public', 'a public client (browser or native app, PKCE only)')
    .option('--secret', 'a confidential client with a generated secret')
    .addOption(
      new Option('--auth-method <method>', 'how the secret is sent').choices([
        'client_secret_basic',
        'client_secret_post',
      ]),
    )
    .option('--jwks-uri <uri>', 'private_key_jwt with keys at this URL')
    .option('--jwks-file <file>', 'private_key_jwt with these public keys')
    .option(
      '--grant-type <type>',
      'authorization_code, refresh_token or client_credentials (repeatable)',
      collect,
      [],
    )
    .option('--role <role>', 'a role (repeatable; bounds backend services tokens)', collect, [])
    .action(async (o: AddOptions, cmd: Command) => {
      const method = authMethod(o);
      const result = await withAdmin(getConfig, (a) =>
        a.addClient({
          name: o.name,
          redirectUris: o.redirectUri,
          launchUri: o.launchUri,
          scope: o.scope,
          authMethod: method,
          jwksUri: o.jwksUri,
          jwks: o.jwksFile === undefined ? undefined : readJwks(o.jwksFile),
          grantTypes: o.grantType.length > 0 ? o.grantType : undefined,
          roles: o.role,
        }),
      );
      const out: Record<string, string> = { client_id: result.clientId };
      if (result.clientSecret !== undefined) out['client_secret'] = result.clientSecret;
      print(
        cmd,
        out,
        result.clientSecret === undefined
          ? `client_id: ${result.clientId}`
          : `client_id: ${result.clientId}\nclient_secret: ${result.clientSecret}`,
      );
    });

  client
    .command('list')
    .description('list clients')
    .action(async (_o: unknown, cmd: Command) => {
      const rows = await withAdmin(getConfig, async (a) =>
        (await a.clients.list()).map((c) => ({
          client_id: c.clientId,
          name: c.name,
          auth_method: c.authMethod,
          redirect_uris: c.redirectUris,
          launch_uri: c.launchUri ?? null,
          scope: c.scope ?? null,
          grant_types: c.grantTypes,
          roles: c.roles,
        })),
      );
      print(
        cmd,
        rows,
        rows
          .map((c) => `${c.client_id}\t${c.name}\t${c.auth_method}\t${c.grant_types.join(',')}`)
          .join('\n') || '(no clients)',
      );
    });

  client
    .command('remove <clientId>')
    .description('remove a client (its tokens stop working at once)')
    .action(async (clientId: string, _o: unknown, cmd: Command) => {
      await withAdmin(getConfig, (a) => a.clients.remove(clientId));
      print(cmd, {}, `client ${clientId} removed`);
    });
}

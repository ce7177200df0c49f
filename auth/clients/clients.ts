import { randomBytes, randomUUID } from 'node:crypto';
import type { ClientMetadata, JWK } from 'oidc-provider';
import { nowSeconds, type AuthSql } from '../db/auth-sql.js';
import type { ClientInfo } from '../types.js';
import { AdminChanges } from '../db/admin-changes.js';

export type ClientAuthMethod = ClientInfo['authMethod'];

/** What `hearth client add` asks for. */
export interface NewClient {
  readonly name: string;
  readonly redirectUris?: readonly string[] | undefined;
  readonly launchUri?: string | undefined;
  /** Space-delimited scopes the client may be granted; all (within roles) when absent. */
  readonly scope?: string | undefined;
  readonly authMethod: ClientAuthMethod;
  readonly jwksUri?: string | undefined;
  readonly jwks?: { readonly keys: readonly JWK[] } | undefined;
  readonly grantTypes?: readonly string[] | undefined;
  readonly roles?: readonly string[] | undefined;
}

/** A stored client: oidc-provider metadata plus Hearth's fields. */
export interface ClientRecord extends ClientInfo {
  readonly metadata: ClientMetadata;
}

interface Row {
  client_id: string;
  name: string;
  metadata: string;
  roles: string;
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
}

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

function toRecord(row: Row): ClientRecord {
  const metadata = JSON.parse(row.metadata) as ClientMetadata;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    clientId: row.client_id,
    name: row.name,
    redirectUris: metadata.redirect_uris ?? [],
    launchUri: str(metadata['launch_uri']),
    scope: str(metadata['smart_scope']),
    grantTypes: metadata.grant_types ?? [],
    authMethod: (metadata.token_endpoint_auth_method ?? 'client_secret_basic') as ClientAuthMethod,
    roles: JSON.parse(row.roles) as string[],
    metadata,
  };
}

function checkUrl(value: string, what: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientError(`${what} must be an absolute URL: ${value}`);
  }
  if (url.hash !== '') throw new ClientError(`${what} must not have a fragment: ${value}`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    // Native apps may use private-use schemes (RFC 8252); anything else is refused.
    if (!/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) {
      throw new ClientError(`${what} must use https, http or a private-use scheme: ${value}`);
    }
  }
}

/** Registered clients, read from the database on demand (no cache: a removal counts at once everywhere). */
export class Clients {
  readonly #changes: AdminChanges;

  constructor(
    private readonly db: AuthSql,
    private readonly validRoles: () => readonly string[],
  ) {
    this.#changes = new AdminChanges(db);
  }

  /** The metadata a registration would store (validated, not yet stored). */
  preview(input: NewClient): ClientMetadata & { client_id: string } {
    this.checkRoles(input.roles ?? []);
    return buildMetadata(input);
  }

  /** Stores a client; the secret (for client_secret_* methods) is returned only here. */
  async insert(
    input: NewClient,
    metadata: ClientMetadata & { client_id: string } = this.preview(input),
  ): Promise<{ clientId: string; clientSecret: string | undefined }> {
    const roles = this.checkRoles(input.roles ?? []);
    await this.db.run(
      'INSERT INTO clients (client_id, name, metadata, roles, created_at) VALUES (?, ?, ?, ?, ?)',
      [
        metadata.client_id,
        input.name,
        JSON.stringify(metadata),
        JSON.stringify(roles),
        nowSeconds(),
      ],
    );
    await this.#changes.client(metadata.client_id, 'added');
    return { clientId: metadata.client_id, clientSecret: metadata.client_secret };
  }

  private checkRoles(list: readonly string[]): string[] {
    const roles = [...new Set(list)].sort();
    const valid = this.validRoles();
    for (const r of roles) {
      if (!valid.includes(r))
        throw new ClientError(`unknown role ${r} (known: ${valid.join(', ')})`);
    }
    return roles;
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db.get<Row>(
      'SELECT client_id, name, metadata, roles FROM clients WHERE client_id = ?',
      [clientId],
    );
    return row === undefined ? undefined : toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.all<Row>(
      'SELECT client_id, name, metadata, roles FROM clients ORDER BY created_at, rowid',
    );
    return rows.map(toRecord);
  }

  async remove(clientId: string): Promise<void> {
    const changes = await this.db.run('DELETE FROM clients WHERE client_id = ?', [clientId]);
    if (changes === 0) throw new ClientError(`no client ${clientId}`);
    await this.#changes.client(clientId, 'removed');
  }
}

/** oidc-provider client metadata for a new client (validated again by oidc-provider on use). */
export function buildMetadata(input: NewClient): ClientMetadata & { client_id: string } {
  if (input.name.trim() === '') throw new ClientError('name must not be empty');
  const redirectUris = [...(input.redirectUris ?? [])];
  for (const u of redirectUris) checkUrl(u, 'redirect-uri');
  if (input.launchUri !== undefined) checkUrl(input.launchUri, 'launch-uri');
  if (input.jwksUri !== undefined) checkUrl(input.jwksUri, 'jwks-uri');
  const grantTypes = [
    ...new Set(
      input.grantTypes ??
        (redirectUris.length > 0
          ? ['authorization_code', 'refresh_token']
          : input.authMethod === 'private_key_jwt'
            ? ['client_credentials']
            : []),
    ),
  ];
  for (const g of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(g))
      throw new ClientError(`unknown grant type ${g}`);
  }
  if (grantTypes.length === 0) throw new ClientError('give --redirect-uri or --grant-type');
  const code = grantTypes.includes('authorization_code');
  if (code && redirectUris.length === 0) {
    throw new ClientError('authorization_code needs at least one --redirect-uri');
  }
  if (grantTypes.includes('client_credentials') && input.authMethod === 'none') {
    throw new ClientError('client_credentials needs a confidential client (--secret or keys)');
  }
  if (
    input.authMethod === 'private_key_jwt' &&
    input.jwks === undefined &&
    input.jwksUri === undefined
  ) {
    throw new ClientError('private_key_jwt needs --jwks-uri or --jwks-file');
  }
  const clientId = randomUUID();
  const metadata: ClientMetadata & { client_id: string } = {
    client_id: clientId,
    client_name: input.name,
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: code ? ['code'] : [],
    token_endpoint_auth_method: input.authMethod,
  };
  if (input.authMethod === 'client_secret_basic' || input.authMethod === 'client_secret_post') {
    metadata.client_secret = randomBytes(32).toString('base64url');
  }
  if (input.jwksUri !== undefined) metadata.jwks_uri = input.jwksUri;
  if (input.jwks !== undefined) metadata.jwks = { keys: [...input.jwks.keys] };
  if (input.launchUri !== undefined) metadata['launch_uri'] = input.launchUri;
  if (input.scope !== undefined)
    metadata['smart_scope'] = input.scope.trim().split(/\s+/).join(' ');
  return metadata;
}

import Provider from 'oidc-provider';
import type { Config } from '../../common/config.js';
import { Users } from '../accounts/users.js';
import { Clients, ClientError, type NewClient } from '../clients/clients.js';
import type { AuthSql } from '../db/auth-sql.js';
import { openAuthSql } from '../db/open-auth-sql.js';
import { KeyStore } from '../keys/key-store.js';
import { adapterFactory } from '../provider/adapter.js';
import { clientSchemaConfiguration } from '../provider/create-provider.js';
import { SqlOidcStorage } from '../storage/sql-oidc-storage.js';
import { loadRoleCatalog, type RoleCatalog } from '../roles/index.js';

/**
 * The account, client and key stores the CLI works on: the server's auth database (DATA_DIR/auth.db,
 * or the shared PostgreSQL schema when STORE_URL is postgres://…), also while servers run.
 */
export interface Admin {
  /** The auth database itself (tests and maintenance). */
  readonly sql: AuthSql;
  readonly users: Users;
  readonly clients: Clients;
  readonly keys: KeyStore;
  readonly roles: RoleCatalog;
  /** Registers a client after oidc-provider validated its metadata. */
  addClient(input: NewClient): Promise<{ clientId: string; clientSecret: string | undefined }>;
  close(): Promise<void>;
}

export async function openAdmin(config: Config): Promise<Admin> {
  const roles = loadRoleCatalog(config.rolesFile);
  const sql = await openAuthSql(config);
  const clients = new Clients(sql, () => roles.names);
  const keys = new KeyStore(sql);
  let validator: Provider | undefined;
  return {
    sql,
    users: new Users(sql, () => roles.names),
    clients,
    keys,
    roles,
    async addClient(input) {
      if (validator === undefined) {
        await keys.ensure();
        validator = new Provider(config.issuer, {
          ...clientSchemaConfiguration(),
          adapter: adapterFactory(new SqlOidcStorage(sql), clients),
          jwks: { keys: [(await keys.material()).signing] },
          features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
        });
      }
      const metadata = clients.preview(input);
      try {
        await validator.Client.validate(metadata);
      } catch (err) {
        const e = err as { error_description?: string; message?: string };
        throw new ClientError(`invalid client: ${e.error_description ?? e.message ?? String(err)}`);
      }
      return clients.insert(input, metadata);
    },
    close: () => sql.close(),
  };
}

import fs from 'node:fs';
import Provider from 'oidc-provider';
import type { Config } from '../../common/config.js';
import { Users } from '../accounts/users.js';
import { Clients, ClientError, type NewClient } from '../clients/clients.js';
import { openAuthDb, type AuthDb } from '../db/open-auth-db.js';
import { KeyStore } from '../keys/key-store.js';
import { adapterFactory } from '../provider/adapter.js';
import { clientSchemaConfiguration } from '../provider/create-provider.js';
import { SqliteOidcStorage } from '../storage/sqlite-oidc-storage.js';
import { loadRoleCatalog, type RoleCatalog } from '../roles.js';

/** The account, client and key stores the CLI works on (the server's DATA_DIR, also while it runs). */
export interface Admin {
  readonly db: AuthDb;
  readonly users: Users;
  readonly clients: Clients;
  readonly keys: KeyStore;
  readonly roles: RoleCatalog;
  /** Registers a client after oidc-provider validated its metadata. */
  addClient(input: NewClient): Promise<{ clientId: string; clientSecret: string | undefined }>;
  close(): void;
}

export function openAdmin(config: Config): Admin {
  const roles = loadRoleCatalog(config.rolesFile);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openAuthDb(config.dataDir, config.sqliteSync);
  const clients = new Clients(db, () => roles.names);
  const keys = new KeyStore(db);
  let validator: Provider | undefined;
  return {
    db,
    users: new Users(db, () => roles.names),
    clients,
    keys,
    roles,
    async addClient(input) {
      if (validator === undefined) {
        await keys.ensure();
        validator = new Provider(config.issuer, {
          ...clientSchemaConfiguration(),
          adapter: adapterFactory(new SqliteOidcStorage(db), clients),
          jwks: { keys: [keys.material().signing] },
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
    close: () => db.close(),
  };
}

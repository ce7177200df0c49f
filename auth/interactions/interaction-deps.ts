import type Provider from 'oidc-provider';
import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Clients } from '../clients/clients.js';
import type { Users } from '../accounts/users.js';
import type { AuthEvents } from '../events.js';
import type { KeyMaterial } from '../keys/key-store.js';
import type { GrantContexts } from '../launch/grant-context.js';
import type { Launches } from '../launch/launches.js';
import type { RoleCatalog } from '../roles/index.js';
import type { SearchEncounters, SearchPatients, SignInResult } from '../types.js';
import type { InteractionViews } from './views.js';

export interface InteractionDeps {
  readonly config: Config;
  readonly log: Logger;
  /** The provider and keys in use (they change when keys rotate). */
  readonly current: () => Promise<{ provider: Provider; keys: KeyMaterial }>;
  readonly users: Users;
  readonly clients: Clients;
  readonly launches: Launches;
  readonly grantContexts: GrantContexts;
  readonly roles: RoleCatalog;
  readonly events: AuthEvents;
  readonly views: InteractionViews;
  readonly signIn: (username: string, password: string, address: string) => Promise<SignInResult>;
  readonly searchPatients: SearchPatients | undefined;
  readonly searchEncounters: SearchEncounters | undefined;
}

import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Clients } from '../clients/clients.js';
import type { Users } from '../accounts/users.js';
import type { AuthEvents } from '../events.js';
import type { InteractionViews } from '../interactions/views.js';
import type { KeyMaterial } from '../keys/key-store.js';
import type { GrantContexts } from '../launch/grant-context.js';
import type { Launches } from '../launch/launches.js';
import type { TokenLiveness } from '../liveness.js';
import type { RoleCatalog } from '../roles/index.js';
import type { OidcStorage } from '../storage/oidc-storage.js';

/** Everything the oidc-provider configuration reaches for. */
export interface ProviderDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly keys: KeyMaterial;
  readonly storage: OidcStorage;
  readonly users: Users;
  readonly clients: Clients;
  readonly launches: Launches;
  readonly grantContexts: GrantContexts;
  readonly liveness: TokenLiveness;
  readonly roles: RoleCatalog;
  readonly events: AuthEvents;
  readonly views: InteractionViews;
  /** Whether encounter selection is available (a SearchEncounters was injected). */
  readonly encounterPicker: boolean;
}

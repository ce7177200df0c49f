import type { Auth, SearchPatients } from '../auth/index.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';

/** The parts of auth the launch UI uses. */
export type LaunchUiAuth = Pick<
  Auth,
  'sessions' | 'verifyPassword' | 'createLaunch' | 'listClients'
>;

export interface LaunchUiOptions {
  readonly config: Pick<Config, 'publicUrl' | 'fhirBaseUrl' | 'trustProxy'>;
  readonly log: Logger;
  readonly auth: LaunchUiAuth;
  /** Patient search as the signed-in user (main.ts calls the gateway on their behalf). */
  readonly searchPatients: SearchPatients;
  /** Minutes without activity after which the clinician is signed out (default 15). */
  readonly idleMinutes?: number;
}

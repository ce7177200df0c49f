import { copyAuthState, countAuthState } from '../../auth/index.js';
import { CliError } from '../output.js';
import type { Migrator } from './migrator.js';

/** Tables whose rows mean "this target already has an auth state" (keys are made on any start). */
const OWNED = ['users', 'clients', 'oidc_payloads', 'admin_changes'] as const;

/**
 * The authorization server's state (auth/'s copyAuthState): accounts, clients, signing and cookie
 * keys, oidc-provider artefacts (grants, sessions, refresh tokens…), launches, grant contexts,
 * revoked token ids, the admin change log and login throttling. Upserted by primary key, so a
 * resumed run simply copies again; the source's keys become the ones in use at the target.
 */
export const authMigrator: Migrator = {
  name: 'auth',
  async check(from, to, resume) {
    if ((await countAuthState(from.config)) === undefined) return;
    const there = await countAuthState(to.config);
    const held = OWNED.filter((t) => (there?.[t] ?? 0) > 0);
    if (held.length > 0 && !resume) {
      throw new CliError(
        `${to.label} already holds auth state (${held.join(', ')}); use an empty target or --resume`,
      );
    }
  },
  async copy(from, to, progress) {
    const counts = await countAuthState(from.config);
    if (counts === undefined) return { copied: false };
    let table = '';
    let done = 0;
    const result = await copyAuthState(from.config, to.config, (p) => {
      if (p.table !== table) {
        table = p.table;
        done = 0;
        progress.phase(`auth ${table}`, counts[table] ?? 0);
      }
      progress.advance(p.copied - done);
      done = p.copied;
    });
    return result.tables;
  },
};

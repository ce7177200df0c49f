import type { MigrateEndpoint } from './endpoint.js';

/** Progress of one migrator, drawn as a bar by the command (nothing when not on a terminal). */
export interface MigrateProgress {
  /** A new phase with `total` units (rows, records…). */
  phase(name: string, total: number): void;
  advance(units: number): void;
}

export type MigrateSummary = Record<string, number | string | boolean>;

/**
 * One kind of state `hearth migrate` carries from one deployment to another (the store, the audit
 * trail, the auth state). `check` runs for every migrator before any copies, so a refusal leaves
 * the target untouched; `copy` streams (bounded batches, memory flat) and returns what it did.
 */
export interface Migrator {
  readonly name: string;
  /**
   * Throws a CliError when `to` already holds this kind of data, unless `resume` and that data is
   * the beginning of `from`'s (a migrate that was interrupted).
   */
  check(from: MigrateEndpoint, to: MigrateEndpoint, resume: boolean): Promise<void>;
  copy(
    from: MigrateEndpoint,
    to: MigrateEndpoint,
    progress: MigrateProgress,
  ): Promise<MigrateSummary>;
}

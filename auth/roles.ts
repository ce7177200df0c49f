/**
 * Roles bound what any token may carry. The names come from ../shared/CONTRACT.md (plus ROLES_FILE);
 * the gateway defines and enforces their data actions. Here a role is only what SMART scopes it can
 * ever allow: the granting function intersects with `limits`.
 */
export interface RoleCatalog {
  /** Every valid role name. */
  readonly names: readonly string[];
  /**
   * The clinical scopes (as scope strings, e.g. `user/*.rs`) the given roles together allow: their
   * union; empty for none.
   */
  limits(roles: readonly string[]): string[];
}

/** Lifetimes (seconds). */
export const TTL = {
  AccessToken: 3600,
  /** Backend services tokens: at most 5 minutes (SMART Backend Services). */
  ClientCredentials: 300,
  AuthorizationCode: 60,
  IdToken: 3600,
  /** Sliding: a refresh renews it, so an app used at least every 90 days stays signed in. */
  RefreshToken: 90 * 24 * 3600,
  /** A grant outlives its refresh tokens; each refresh extends it. */
  Grant: 90 * 24 * 3600,
  Interaction: 3600,
  Session: 14 * 24 * 3600,
} as const;

/** Longest accepted lifetime of a client assertion (exp − now), plus the clock tolerance. */
export const MAX_ASSERTION_LIFETIME = 300;
export const CLOCK_TOLERANCE = 15;

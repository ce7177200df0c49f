import type { JWTPayload } from 'jose';

/** Who is calling, as established from a verified access token. */
export interface Principal {
  /** `sub`: the user for user-delegated tokens, the client for client_credentials. */
  sub: string | undefined;
  clientId: string | undefined;
  /** `fhirUser`, relative (`Practitioner/1`, `Patient/123`) when it points into this server. */
  fhirUser: string | undefined;
  /** The launch-context patient id (`patient` claim). */
  patient: string | undefined;
  /** Granted scopes, as strings. */
  scopes: string[];
  /** Role names: the user's for user-delegated tokens, the client's for client_credentials. */
  roles: string[];
  /** Expiry, seconds since epoch. */
  exp: number;
  claims: JWTPayload;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { JSONWebKeySet } from 'jose';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { AuthEvents } from './events.js';
import type { InteractionViews } from './interactions/views.js';
import type { SmartConfiguration } from './discovery.js';
import type { RoleCatalog } from './roles/index.js';

/** A local account as other areas see it (never the password hash). */
export interface UserInfo {
  /** Stable opaque id: the `sub` of this user's tokens. A removed and re-added user gets a new id. */
  readonly id: string;
  readonly username: string;
  /** Relative reference, e.g. `Practitioner/123` or `Patient/456`, when the account has one. */
  readonly fhirUser: string | undefined;
  readonly roles: readonly string[];
  readonly enabled: boolean;
}

/** A registered client as other areas (e.g. the EHR launcher) see it. */
export interface ClientInfo {
  readonly clientId: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly launchUri: string | undefined;
  /** The scopes this client may be granted (space-delimited); undefined: any (within its roles). */
  readonly scope: string | undefined;
  readonly grantTypes: readonly string[];
  readonly authMethod: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  readonly roles: readonly string[];
}

/** One patient row of the picker. */
export interface PatientSummary {
  readonly id: string;
  readonly name: string;
  readonly birthDate?: string | undefined;
  readonly gender?: string | undefined;
  readonly identifier?: string | undefined;
}

export interface PatientSearchQuery {
  /** One patient by id (the consent page names the patient it is about). */
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly birthdate?: string | undefined;
  /** 1-based page number. */
  readonly page: number;
}

export interface PatientSearchResult {
  readonly patients: readonly PatientSummary[];
  /** The next page number, when there is one. */
  readonly next?: number | undefined;
}

/**
 * Finds patients for the standalone-launch picker, as the signed-in user (the composition root calls
 * the gateway on the user's behalf).
 */
export type SearchPatients = (
  query: PatientSearchQuery,
  user: UserInfo,
) => Promise<PatientSearchResult>;

/** One encounter row of the standalone `launch/encounter` picker. */
export interface EncounterSummary {
  readonly id: string;
  /** A human label, e.g. "2024-03-01 ambulatory visit". */
  readonly label: string;
}

/** Finds a patient's encounters for `launch/encounter`; without it, `launch/encounter` is ignored. */
export type SearchEncounters = (
  query: { readonly patient: string; readonly page: number },
  user: UserInfo,
) => Promise<{
  readonly encounters: readonly EncounterSummary[];
  readonly next?: number | undefined;
}>;

/** SMART 2.2 `fhirContext` item (object form). */
export interface FhirContextItem {
  readonly reference?: string;
  readonly canonical?: string;
  readonly identifier?: { readonly system?: string; readonly value?: string };
  readonly type?: string;
  readonly role?: string;
}

/** The context an EHR launch (or a standalone pick) puts into the token response. */
export interface LaunchContext {
  /** Patient id (no `Patient/` prefix). */
  readonly patient?: string | undefined;
  /** Encounter id (no `Encounter/` prefix). */
  readonly encounter?: string | undefined;
  readonly fhirContext?: readonly FhirContextItem[] | undefined;
  readonly needPatientBanner?: boolean | undefined;
  readonly smartStyleUrl?: string | undefined;
  readonly intent?: string | undefined;
}

/** What an EHR launch carries into the app's token response. */
export interface LaunchInput extends LaunchContext {
  /** The signed-in user (UserInfo.id) who launches. */
  readonly userId: string;
  /** The app being launched; the handle works for this client only. */
  readonly clientId: string;
}

export interface LaunchHandle {
  /** The opaque, single-use `launch` value. */
  readonly launch: string;
  /** Epoch seconds after which the handle no longer works. */
  readonly expiresAt: number;
  /** `<client launch_uri>?iss=<FHIR base>&launch=<launch>` when the client registered a launch URI. */
  readonly launchUrl: string | undefined;
}

/** Claims of a Hearth access token (RFC 9068 JWT) the gateway checks. */
export interface AccessTokenClaims {
  readonly iss?: string | undefined;
  readonly sub?: string | undefined;
  readonly aud?: string | readonly string[] | undefined;
  readonly client_id?: string | undefined;
  readonly scope?: string | undefined;
  readonly jti?: string | undefined;
  readonly exp?: number | undefined;
  readonly iat?: number | undefined;
  readonly fhirUser?: string | undefined;
  readonly patient?: string | undefined;
  readonly encounter?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  /** Private: the grant the token belongs to (absent for client_credentials). */
  readonly grant?: string | undefined;
  readonly [claim: string]: unknown;
}

export type SignInResult =
  | { readonly ok: true; readonly user: UserInfo }
  | {
      readonly ok: false;
      /** `invalid`: wrong username/password, or the account is disabled (indistinguishable). */
      readonly reason: 'invalid' | 'throttled';
      /** Seconds to wait, when throttled. */
      readonly retryAfter?: number | undefined;
    };

/**
 * The authorization server's browser session, shared with the launch UI: a clinician who signed in
 * at `/` is already signed in at the authorization endpoint (and vice versa).
 */
export interface AuthSessions {
  /** Starts (or replaces) the session for this user; sets the session cookie on `res`. */
  signIn(req: IncomingMessage, res: ServerResponse, userId: string): Promise<void>;
  /** The signed-in, still-enabled user of this browser, if any. */
  current(req: IncomingMessage, res: ServerResponse): Promise<UserInfo | undefined>;
  /** Ends the session and clears its cookie. */
  signOut(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Keys for a MAC over browser state of the caller's (`purpose` names it), derived from the
   * session cookie keys: the current key first, then older live ones. Every process and every
   * Hearth sharing the auth database derives the same keys; the cookie keys themselves stay inside.
   */
  macKeys(purpose: string): Promise<readonly Buffer[]>;
}

export interface Auth {
  /**
   * Koa middleware serving everything under `/auth` (the issuer): OAuth/OIDC endpoints, JWKS,
   * discovery, and the interaction pages (login → patient picker → consent). Other paths go to
   * `next()`. Mount it before any body parser: it reads request bodies itself.
   */
  readonly middleware: Middleware;
  /** `config.issuer`. */
  readonly issuer: string;
  /** `config.fhirBaseUrl`: the `aud` of every access token. */
  readonly audience: string;
  /** The SMART configuration document the gateway serves at `/fhir/.well-known/smart-configuration`. */
  smartConfiguration(): SmartConfiguration;
  /** The public signing keys (current and still-published old ones), read fresh from the key store. */
  jwks(): Promise<JSONWebKeySet>;
  /**
   * Verifies an access token completely: signature (current keys), `typ: at+jwt`, issuer, audience,
   * expiry, then `isTokenAlive`. Resolves to its claims, or undefined when it is not valid.
   */
  verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined>;
  /**
   * Cheap per-request liveness check of an already signature-verified access token: false when the
   * token was revoked, its grant revoked, its user disabled/removed or their roles changed, or its
   * client removed or (for client_credentials) the client's roles changed. One round trip to the auth
   * database (primary-key lookups), so a change made by any process sharing it counts at once. On
   * SQLite, checking the same claims object again reuses the answer (no promise) until anything is
   * committed to auth.db, by any connection, or the second changes.
   */
  isTokenAlive(claims: AccessTokenClaims): boolean | Promise<boolean>;
  /** Creates an EHR launch handle (opaque, single use, 5 minutes), bound to the user and client. */
  createLaunch(input: LaunchInput): Promise<LaunchHandle>;
  /** Checks a username/password with per-account and per-address throttling; emits sign-in events. */
  verifyPassword(username: string, password: string, address: string): Promise<SignInResult>;
  /** Looks a user up by id or username. */
  findUser(idOrUsername: string): Promise<UserInfo | undefined>;
  /** Registered clients (read from the database on demand). */
  listClients(): Promise<ClientInfo[]>;
  /** Resolves when the auth database answers (a trivial query); rejects when it does not. */
  ping(): Promise<void>;
  /** Where the auth state lives: the auth.db path, or `postgres schema <name>`. */
  readonly storage: string;
  readonly sessions: AuthSessions;
  readonly events: AuthEvents;
  /** Stops timers and closes the database (connections). */
  close(): Promise<void>;
}

export interface AuthOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Patient search for the standalone-launch picker. Without it the picker shows an error. */
  readonly searchPatients?: SearchPatients | undefined;
  /** Encounter search for standalone `launch/encounter`. */
  readonly searchEncounters?: SearchEncounters | undefined;
  /** Styled pages; defaults to the plain built-in views. */
  readonly views?: InteractionViews | undefined;
  /** Role names and what each permits; defaults to the built-in roles plus ROLES_FILE. */
  readonly roles?: RoleCatalog | undefined;
}

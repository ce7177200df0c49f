/**
 * SMART App Launch 2.2 discovery: the document the gateway serves at
 * `{fhirBase}/.well-known/smart-configuration` (JSON whatever the Accept, CORS open). Every URL is
 * absolute; capabilities list exactly what works.
 */
import { STATIC_SCOPES } from './scopes/grammar.js';

export interface SmartConfiguration {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly introspection_endpoint: string;
  readonly revocation_endpoint: string;
  readonly grant_types_supported: readonly string[];
  readonly response_types_supported: readonly string[];
  readonly code_challenge_methods_supported: readonly string[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly token_endpoint_auth_signing_alg_values_supported: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly capabilities: readonly string[];
}

export const CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'authorize-post',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-banner',
  'context-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'context-standalone-encounter',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
] as const;

/** Client-assertion algorithms accepted for private_key_jwt. */
export const CLIENT_ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256'] as const;

export const SCOPES_SUPPORTED = [
  ...STATIC_SCOPES,
  'patient/*.cruds',
  'user/*.cruds',
  'system/*.cruds',
  'patient/*.*',
  'user/*.*',
  'system/*.*',
  'patient/*.read',
  'user/*.read',
  'system/*.read',
] as const;

/** The SMART configuration for an issuer and its endpoints (oidc-provider's default routes). */
export function smartConfiguration(issuer: string): SmartConfiguration {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/token/introspection`,
    revocation_endpoint: `${issuer}/token/revocation`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    scopes_supported: [...SCOPES_SUPPORTED],
    capabilities: [...CAPABILITIES],
  };
}

import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

export const ISSUER = 'http://localhost:8080/auth';
export const AUDIENCE = 'http://localhost:8080/fhir';

export interface TestKeys {
  getKey: JWTVerifyGetKey;
  publicJwk: JWK;
  mint(
    claims: JWTPayload,
    opts?: { typ?: string; expiresIn?: number; kid?: string; aud?: string; iss?: string },
  ): Promise<string>;
}

/** An RS256 key pair standing in for auth's signing key, and a minter of RFC 9068 access tokens. */
export async function testKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const getKey = createLocalJWKSet({ keys: [publicJwk] });
  return {
    getKey,
    publicJwk,
    mint: (claims, opts = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ client_id: 'app', jti: `t${Math.random()}`, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1', typ: opts.typ ?? 'at+jwt' })
        .setIssuer(opts.iss ?? ISSUER)
        .setAudience(opts.aud ?? AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (opts.expiresIn ?? 300))
        .sign(privateKey);
    },
  };
}

/** A patient-launch token's claims (patient 123, `patient/*.rs`) for the gateway HTTP suites. */
export const PATIENT_CLAIMS = {
  sub: 'u-patient',
  scope: 'launch/patient patient/*.rs',
  patient: '123',
  roles: ['fhir-smart-user'],
};

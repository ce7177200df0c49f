import path from 'node:path';
import { z } from 'zod';

/**
 * Hearth's configuration: parsed once from the environment, validated, frozen and passed in.
 * Nothing else reads `process.env`. Variables are listed in ../shared/CONTRACT.md and the README.
 */

const flag = z
  .enum(['', '0', '1', 'true', 'false'])
  .optional()
  .transform((v) => v === '1' || v === 'true');

const int = (dflt: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const optionalUrl = optionalString.refine(
  (v) => v === undefined || URL.canParse(v),
  'must be an absolute URL',
);

const envSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: optionalUrl,
  DATA_DIR: z.string().min(1).default('./data'),
  STORE_URL: optionalString,
  FHIR_UPSTREAM: optionalUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: flag,
  ROLES_FILE: optionalString,
  AUTH_JWKS_URL: optionalUrl,
  FHIR_UPSTREAM_AUTHORIZATION: optionalString,
  AUDIT_NDJSON: optionalString,
  SQLITE_SYNC: z.enum(['full', 'normal']).default('full'),
  BUNDLE_MAX_ENTRIES: int(500, 1, 100_000),
  SEARCH_DEFAULT_COUNT: int(20, 1, 10_000),
  SEARCH_MAX_COUNT: int(1000, 1, 10_000),
  CONDITIONAL_DELETE_MAX: int(100, 1, 100_000),
  MAX_BODY_BYTES: int(10_485_760, 1024, 1_073_741_824),
  ALLOW_LOOPBACK_JWKS: flag,
  WORKERS: int(1, 1, 64),
  QUERY_TIMEOUT_MS: int(10_000, 100, 600_000),
  IMPORT_DIR: optionalString,
  BULK_MAX_JOBS: int(2, 1, 64),
  EXPORT_FILE_MAX_RESOURCES: int(10_000, 1, 10_000_000),
  EXPORT_EXPIRY_HOURS: int(24, 1, 8760),
  EXPORT_MAX_RATE: int(0, 0, 10_000_000),
  BULK_MAX_JOBS_PER_CLIENT: int(4, 1, 1000),
  EXPORT_S3_BUCKET: optionalString.refine(
    (v) => v === undefined || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v),
    'must be an S3 bucket name',
  ),
  EXPORT_S3_ENDPOINT: optionalUrl,
  EXPORT_S3_REGION: z.string().min(1).default('us-east-1'),
  EXPORT_S3_PREFIX: z
    .string()
    .default('')
    .refine((v) => /^([A-Za-z0-9._-]+\/)*$/.test(v), 'must be empty or end with / (e.g. hearth/)'),
  EXPORT_S3_FORCE_PATH_STYLE: z
    .enum(['', '0', '1', 'true', 'false'])
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v === '1' || v === 'true')),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
});

export type SqliteSync = 'full' | 'normal';

/** An S3-compatible bucket for bulk export output (and `s3://` `$import` inputs). */
export interface BulkS3Config {
  readonly bucket: string;
  /** Absolute URL of an S3-compatible server; undefined: AWS S3 of `region`. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Key prefix, empty or ending with `/`. */
  readonly prefix: string;
  /** Path-style addressing (default: on when `endpoint` is set). */
  readonly forcePathStyle: boolean;
  /** Static credentials; undefined: the AWS SDK's default chain (profile, instance role…). */
  readonly credentials:
    { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** External base URL without a trailing slash, e.g. `http://localhost:8080`. */
  readonly publicUrl: string;
  /** `publicUrl + '/fhir'`: the FHIR base and the `aud` of every access token. */
  readonly fhirBaseUrl: string;
  /** `publicUrl + '/auth'`: the OAuth / OIDC issuer. */
  readonly issuer: string;
  /** Absolute path. */
  readonly dataDir: string;
  /** `sqlite:<absolute path>` or `postgres://…`. */
  readonly storeUrl: string;
  readonly fhirUpstream: string | undefined;
  readonly fhirUpstreamAuthorization: string | undefined;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly rolesFile: string | undefined;
  readonly authJwksUrl: string | undefined;
  readonly auditNdjson: string | undefined;
  readonly sqliteSync: SqliteSync;
  readonly bundleMaxEntries: number;
  readonly searchDefaultCount: number;
  readonly searchMaxCount: number;
  readonly conditionalDeleteMax: number;
  readonly maxBodyBytes: number;
  readonly allowLoopbackJwks: boolean;
  readonly workers: number;
  /** Time budget of one store query; a query over it is stopped and answered with an OperationOutcome. */
  readonly queryTimeoutMs: number;
  /** Bulk data (gateway/bulk): `$import` reads input files only below this directory (absolute). */
  readonly importDir: string | undefined;
  readonly bulkMaxJobs: number;
  readonly exportFileMaxResources: number;
  readonly exportExpiryHours: number;
  /** Resources per second one export job may read (0: unlimited). */
  readonly exportMaxRate: number;
  /** Bulk jobs one client may have queued or running at once (over it: 429). */
  readonly bulkMaxJobsPerClient: number;
  /** Export output to an S3-compatible bucket; undefined: files under DATA_DIR/bulk. */
  readonly exportS3: BulkS3Config | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Parses and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  const publicUrl = trimSlash(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  const storeUrl = e.STORE_URL ?? `sqlite:${path.join(dataDir, 'fhir.db')}`;
  if (!storeUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(storeUrl)) {
    throw new ConfigError(
      'invalid configuration: STORE_URL must start with sqlite: or postgres://',
    );
  }
  if (e.SEARCH_DEFAULT_COUNT > e.SEARCH_MAX_COUNT) {
    throw new ConfigError(
      'invalid configuration: SEARCH_DEFAULT_COUNT must not exceed SEARCH_MAX_COUNT',
    );
  }
  if (
    e.EXPORT_S3_BUCKET !== undefined &&
    (e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)
  ) {
    throw new ConfigError(
      'invalid configuration: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together',
    );
  }
  const exportS3: BulkS3Config | undefined =
    e.EXPORT_S3_BUCKET === undefined
      ? undefined
      : Object.freeze({
          bucket: e.EXPORT_S3_BUCKET,
          endpoint: e.EXPORT_S3_ENDPOINT,
          region: e.EXPORT_S3_REGION,
          prefix: e.EXPORT_S3_PREFIX,
          forcePathStyle: e.EXPORT_S3_FORCE_PATH_STYLE ?? e.EXPORT_S3_ENDPOINT !== undefined,
          credentials:
            e.AWS_ACCESS_KEY_ID === undefined || e.AWS_SECRET_ACCESS_KEY === undefined
              ? undefined
              : {
                  accessKeyId: e.AWS_ACCESS_KEY_ID,
                  secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
                  ...(e.AWS_SESSION_TOKEN === undefined
                    ? {}
                    : { sessionToken: e.AWS_SESSION_TOKEN }),
                },
        });
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    fhirBaseUrl: `${publicUrl}/fhir`,
    issuer: `${publicUrl}/auth`,
    dataDir,
    storeUrl,
    fhirUpstream: e.FHIR_UPSTREAM === undefined ? undefined : trimSlash(e.FHIR_UPSTREAM),
    fhirUpstreamAuthorization: e.FHIR_UPSTREAM_AUTHORIZATION,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    rolesFile: e.ROLES_FILE,
    authJwksUrl: e.AUTH_JWKS_URL,
    auditNdjson: e.AUDIT_NDJSON,
    sqliteSync: e.SQLITE_SYNC,
    bundleMaxEntries: e.BUNDLE_MAX_ENTRIES,
    searchDefaultCount: e.SEARCH_DEFAULT_COUNT,
    searchMaxCount: e.SEARCH_MAX_COUNT,
    conditionalDeleteMax: e.CONDITIONAL_DELETE_MAX,
    maxBodyBytes: e.MAX_BODY_BYTES,
    allowLoopbackJwks: e.ALLOW_LOOPBACK_JWKS,
    workers: e.WORKERS,
    queryTimeoutMs: e.QUERY_TIMEOUT_MS,
    importDir: e.IMPORT_DIR === undefined ? undefined : path.resolve(cwd, e.IMPORT_DIR),
    bulkMaxJobs: e.BULK_MAX_JOBS,
    exportFileMaxResources: e.EXPORT_FILE_MAX_RESOURCES,
    exportExpiryHours: e.EXPORT_EXPIRY_HOURS,
    exportMaxRate: e.EXPORT_MAX_RATE,
    bulkMaxJobsPerClient: e.BULK_MAX_JOBS_PER_CLIENT,
    exportS3,
  });
}

import { randomBytes } from 'node:crypto';
import { nowSeconds, type AuthSql } from '../db/auth-sql.js';
import type { LaunchContext, LaunchInput } from '../types.js';

export type { LaunchContext } from '../types.js';

export interface StoredLaunch {
  readonly userId: string;
  readonly clientId: string;
  readonly context: LaunchContext;
}

/** Seconds an EHR launch handle lives. */
export const LAUNCH_TTL_SECONDS = 300;

interface Row {
  user_id: string;
  client_id: string;
  context: string;
}

const ID = /^[A-Za-z0-9_-]{16,128}$/;

/** Opaque, single-use, short-lived EHR launch handles. */
export class Launches {
  constructor(private readonly db: AuthSql) {}

  async create(input: LaunchInput): Promise<{ launch: string; expiresAt: number }> {
    const launch = randomBytes(24).toString('base64url');
    const expiresAt = nowSeconds() + LAUNCH_TTL_SECONDS;
    const context: LaunchContext = {
      patient: input.patient,
      encounter: input.encounter,
      fhirContext: input.fhirContext,
      needPatientBanner: input.needPatientBanner,
      smartStyleUrl: input.smartStyleUrl,
      intent: input.intent,
    };
    await this.db.run(
      'INSERT INTO launches (id, user_id, client_id, context, expires_at) VALUES (?, ?, ?, ?, ?)',
      [launch, input.userId, input.clientId, JSON.stringify(context), expiresAt],
    );
    return { launch, expiresAt };
  }

  /** The launch, if it exists and has not expired or been used. */
  async peek(launch: string): Promise<StoredLaunch | undefined> {
    if (!ID.test(launch)) return undefined;
    return toLaunch(
      await this.db.get<Row>(
        'SELECT user_id, client_id, context FROM launches WHERE id = ? AND expires_at > ?',
        [launch, nowSeconds()],
      ),
    );
  }

  /** Uses the launch up (single use, also across processes); undefined when used or expired. */
  async take(launch: string): Promise<StoredLaunch | undefined> {
    if (!ID.test(launch)) return undefined;
    return toLaunch(
      await this.db.get<Row>(
        'DELETE FROM launches WHERE id = ? AND expires_at > ? RETURNING user_id, client_id, context',
        [launch, nowSeconds()],
      ),
    );
  }
}

function toLaunch(row: Row | undefined): StoredLaunch | undefined {
  if (row === undefined) return undefined;
  return {
    userId: row.user_id,
    clientId: row.client_id,
    context: JSON.parse(row.context) as LaunchContext,
  };
}

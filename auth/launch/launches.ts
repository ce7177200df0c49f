import { randomBytes } from 'node:crypto';
import { nowSeconds, type AuthDb } from '../db/open-auth-db.js';
import type { FhirContextItem, LaunchInput } from '../types.js';

/** The context an EHR launch (or a standalone pick) puts into the token response. */
export interface LaunchContext {
  readonly patient?: string | undefined;
  readonly encounter?: string | undefined;
  readonly fhirContext?: readonly FhirContextItem[] | undefined;
  readonly needPatientBanner?: boolean | undefined;
  readonly smartStyleUrl?: string | undefined;
  readonly intent?: string | undefined;
}

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
  readonly #insert;
  readonly #peek;
  readonly #take;

  constructor(db: AuthDb) {
    this.#insert = db.prepare<[string, string, string, string, number]>(
      'INSERT INTO launches (id, user_id, client_id, context, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#peek = db.prepare<[string, number], Row>(
      'SELECT user_id, client_id, context FROM launches WHERE id = ? AND expires_at > ?',
    );
    this.#take = db.prepare<[string, number], Row>(
      'DELETE FROM launches WHERE id = ? AND expires_at > ? RETURNING user_id, client_id, context',
    );
  }

  create(input: LaunchInput): { launch: string; expiresAt: number } {
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
    this.#insert.run(launch, input.userId, input.clientId, JSON.stringify(context), expiresAt);
    return { launch, expiresAt };
  }

  /** The launch, if it exists and has not expired or been used. */
  peek(launch: string): StoredLaunch | undefined {
    if (!ID.test(launch)) return undefined;
    return toLaunch(this.#peek.get(launch, nowSeconds()));
  }

  /** Uses the launch up (single use); undefined when it was already used or expired. */
  take(launch: string): StoredLaunch | undefined {
    if (!ID.test(launch)) return undefined;
    return toLaunch(this.#take.get(launch, nowSeconds()));
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

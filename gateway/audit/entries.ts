import type { AuditEvent } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal.js';
import { restAuditEvents, type RestAuditInput } from './events.js';

/**
 * A REST request's audit as plain JSON: what restAuditEvents needs, with the time as an ISO
 * instant, only the principal's names, and the patients' own resources as pairs.
 */
export interface RestAuditRecord extends Omit<
  RestAuditInput,
  'recorded' | 'principal' | 'entitiesByPatient'
> {
  recorded: string;
  principal: Pick<Principal, 'sub' | 'clientId' | 'fhirUser'> | undefined;
  entitiesByPatient?: [string, readonly string[]][] | undefined;
}

/**
 * What the trail is asked to append: an AuditEvent, or a REST request's record, made into its
 * AuditEvents (one per disclosed patient) where the batch is chained. That is the SQLite writer
 * thread, so the gateway's event loop neither builds the events nor copies them to the thread,
 * and the events of one request share their parts (written and indexed once per batch).
 */
export type AuditEntry = AuditEvent | { rest: RestAuditRecord };

export function restEntry(input: RestAuditInput): { rest: RestAuditRecord } {
  const p = input.principal;
  return {
    rest: {
      ...input,
      recorded: input.recorded.toISOString(),
      principal:
        p === undefined ? undefined : { sub: p.sub, clientId: p.clientId, fhirUser: p.fhirUser },
      entitiesByPatient:
        input.entitiesByPatient === undefined ? undefined : [...input.entitiesByPatient],
    },
  };
}

/** The AuditEvents an entry stands for. */
export function entryEvents(entry: AuditEntry): AuditEvent[] {
  if (!('rest' in entry)) return [entry];
  const r = entry.rest;
  return restAuditEvents({
    ...r,
    recorded: new Date(r.recorded),
    entitiesByPatient: r.entitiesByPatient === undefined ? undefined : new Map(r.entitiesByPatient),
  });
}

/** About how many records an entry makes (for the group commit's size limit). */
export function entrySize(entry: AuditEntry): number {
  return 'rest' in entry ? Math.max(1, entry.rest.patients.length) : 1;
}

import type { AuditEvent } from '@medplum/fhirtypes';
import { restAuditEvents } from '../../../gateway/audit/events.js';

const SITE = 'http://localhost:8080/fhir';

/** The AuditEvents of the i-th practitioner read of `Observation/i` (for audit trail tests). */
export function rest(i: number, patients: string[] = []): AuditEvent[] {
  return restAuditEvents({
    requestId: `r${i}`,
    recorded: new Date(Date.UTC(2026, 10, 29, 6, 0, i)),
    site: SITE,
    interaction: 'read',
    action: 'R',
    status: 200,
    principal: {
      sub: 'u1',
      clientId: 'app',
      fhirUser: 'Practitioner/9',
      patient: undefined,
      scopes: [],
      roles: [],
      exp: 0,
      claims: {},
    },
    clientIp: '127.0.0.1',
    method: 'GET',
    url: `Observation/${i}`,
    isQuery: false,
    entities: [`Observation/${i}/_history/1`],
    patients,
    customHeaders: {},
  });
}

import type { Coding } from '@medplum/fhirtypes';

/** IHE BALP / DICOM / FHIR code systems used in Hearth's AuditEvents. */
export const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
export const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
export const IHE_EVENT_TYPE = 'urn:ihe:event-type-code';
export const HEARTH_AUDIT = 'urn:hearth:audit';
export const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
export const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
export const CUSTOM_HEADER_EXTENSION = 'urn:hearth:audit:custom-header';

export const REST_TYPE: Coding = {
  system: AUDIT_EVENT_TYPE,
  code: 'rest',
  display: 'RESTful Operation',
};
export const AUTHENTICATION_TYPE: Coding = {
  system: DICOM,
  code: '110114',
  display: 'User Authentication',
};
export const APPLICATION_ACTIVITY_TYPE: Coding = {
  system: DICOM,
  code: '110100',
  display: 'Application Activity',
};

export const AGENT_USER: Coding = {
  system: PARTICIPATION_TYPE,
  code: 'IRCP',
  display: 'information recipient',
};
export const AGENT_CLIENT: Coding = { system: DICOM, code: '110153', display: 'Source Role ID' };
export const AGENT_SERVER: Coding = {
  system: DICOM,
  code: '110152',
  display: 'Destination Role ID',
};

export const ENTITY_PERSON: Coding = { system: ENTITY_TYPE, code: '1', display: 'Person' };
export const ENTITY_SYSTEM_OBJECT: Coding = {
  system: ENTITY_TYPE,
  code: '2',
  display: 'System Object',
};
export const ROLE_PATIENT: Coding = { system: OBJECT_ROLE, code: '1', display: 'Patient' };
export const ROLE_DOMAIN_RESOURCE: Coding = {
  system: OBJECT_ROLE,
  code: '4',
  display: 'Domain Resource',
};
export const ROLE_QUERY: Coding = { system: OBJECT_ROLE, code: '24', display: 'Query' };
export const ROLE_JOB: Coding = { system: OBJECT_ROLE, code: '20', display: 'Job' };

export const SOURCE_APPLICATION_SERVER: Coding = {
  system: SOURCE_TYPE,
  code: '4',
  display: 'Application Server',
};

/** Authentication-event subtypes (DICOM login/logout, IHE IUA token events, Hearth's own). */
export const AUTH_SUBTYPES = {
  login: { system: DICOM, code: '110122', display: 'Login' },
  logout: { system: DICOM, code: '110123', display: 'Logout' },
  token: { system: IHE_EVENT_TYPE, code: 'ITI-71', display: 'Get Access Token' },
  refresh: { system: HEARTH_AUDIT, code: 'token-refresh', display: 'Refresh Access Token' },
  revoke: { system: HEARTH_AUDIT, code: 'token-revoke', display: 'Revoke Token' },
  introspect: { system: IHE_EVENT_TYPE, code: 'ITI-102', display: 'Introspect Token' },
  consent: { system: HEARTH_AUDIT, code: 'consent', display: 'Authorization Consent' },
  launch: { system: HEARTH_AUDIT, code: 'ehr-launch', display: 'EHR Launch Context Created' },
  'client-auth-failure': {
    system: HEARTH_AUDIT,
    code: 'client-auth-failure',
    display: 'Client Authentication Failure',
  },
} as const satisfies Record<string, Coding>;

export type AuthEventKind = keyof typeof AUTH_SUBTYPES;

/** FHIR AuditEvent.outcome for an HTTP status: 0 success, 4 minor failure, 8 serious failure. */
export function outcomeForStatus(status: number): '0' | '4' | '8' {
  if (status < 400) return '0';
  if (status < 500) return '4';
  return '8';
}

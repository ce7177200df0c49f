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
  code: 'rest',
  display: 'RESTful Operation',
  system: AUDIT_EVENT_TYPE,
};
export const AUTHENTICATION_TYPE: Coding = {
  code: '110114',
  display: 'User Authentication',
  system: DICOM,
};
export const APPLICATION_ACTIVITY_TYPE: Coding = {
  code: '110100',
  display: 'Application Activity',
  system: DICOM,
};

export const AGENT_USER: Coding = {
  code: 'IRCP',
  display: 'information recipient',
  system: PARTICIPATION_TYPE,
};
export const AGENT_CLIENT: Coding = { code: '110153', display: 'Source Role ID', system: DICOM };
export const AGENT_SERVER: Coding = {
  code: '110152',
  display: 'Destination Role ID',
  system: DICOM,
};

export const ENTITY_PERSON: Coding = { code: '1', display: 'Person', system: ENTITY_TYPE };
export const ENTITY_SYSTEM_OBJECT: Coding = {
  code: '2',
  display: 'System Object',
  system: ENTITY_TYPE,
};
export const ROLE_PATIENT: Coding = { code: '1', display: 'Patient', system: OBJECT_ROLE };
export const ROLE_DOMAIN_RESOURCE: Coding = {
  code: '4',
  display: 'Domain Resource',
  system: OBJECT_ROLE,
};
export const ROLE_QUERY: Coding = { code: '24', display: 'Query', system: OBJECT_ROLE };
export const ROLE_JOB: Coding = { code: '20', display: 'Job', system: OBJECT_ROLE };

export const SOURCE_APPLICATION_SERVER: Coding = {
  code: '4',
  display: 'Application Server',
  system: SOURCE_TYPE,
};

/** Authentication-event subtypes (DICOM login/logout, IHE IUA token events, Hearth's own). */
export const AUTH_SUBTYPES = {
  login: { code: '110122', display: 'Login', system: DICOM },
  logout: { code: '110123', display: 'Logout', system: DICOM },
  token: { code: 'ITI-71', display: 'Get Access Token', system: IHE_EVENT_TYPE },
  refresh: { code: 'token-refresh', display: 'Refresh Access Token', system: HEARTH_AUDIT },
  revoke: { code: 'token-revoke', display: 'Revoke Token', system: HEARTH_AUDIT },
  introspect: { code: 'ITI-102', display: 'Introspect Token', system: IHE_EVENT_TYPE },
  consent: { code: 'consent', display: 'Authorization Consent', system: HEARTH_AUDIT },
  launch: { code: 'ehr-launch', display: 'EHR Launch Context Created', system: HEARTH_AUDIT },
  'client-auth-failure': {
    code: 'client-auth-failure',
    display: 'Client Authentication Failure',
    system: HEARTH_AUDIT,
  },
} as const satisfies Record<string, Coding>;

export type AuthEventKind = keyof typeof AUTH_SUBTYPES;

/** FHIR AuditEvent.outcome for an HTTP status: 0 success, 4 minor failure, 8 serious failure. */
export function outcomeForStatus(status: number): '0' | '4' | '8' {
  if (status < 400) return '0';
  if (status < 500) return '4';
  return '8';
}

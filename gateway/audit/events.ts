import type { AuditEvent, AuditEventAgent, AuditEventEntity, Extension } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal.js';
import {
  AGENT_CLIENT,
  AGENT_SERVER,
  AGENT_USER,
  APPLICATION_ACTIVITY_TYPE,
  AUTHENTICATION_TYPE,
  AUTH_SUBTYPES,
  CUSTOM_HEADER_EXTENSION,
  ENTITY_PERSON,
  ENTITY_SYSTEM_OBJECT,
  HEARTH_AUDIT,
  RESTFUL_INTERACTION,
  REST_TYPE,
  ROLE_DOMAIN_RESOURCE,
  ROLE_JOB,
  ROLE_PATIENT,
  ROLE_QUERY,
  SOURCE_APPLICATION_SERVER,
  outcomeForStatus,
  type AuthEventKind,
} from './vocabulary.js';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/**
 * Who observed the event: this Hearth server. (Every object built here lists its keys in
 * canonical order, so canonicalJson can hand the event to JSON.stringify as it is.)
 */
export function auditSource(site: string): AuditEvent['source'] {
  return { observer: { display: 'Hearth FHIR gateway' }, site, type: [SOURCE_APPLICATION_SERVER] };
}

function agentsFor(
  principal: Pick<Principal, 'sub' | 'clientId' | 'fhirUser'> | undefined,
  clientIp: string | undefined,
): AuditEventAgent[] {
  const agents: AuditEventAgent[] = [];
  const network =
    clientIp === undefined ? {} : { network: { address: clientIp, type: '2' as const } };
  if (
    principal?.fhirUser !== undefined ||
    (principal?.sub !== undefined && principal.sub !== principal.clientId)
  ) {
    agents.push({
      requestor: true,
      type: { coding: [AGENT_USER] },
      who: {
        ...(principal.sub === undefined ? {} : { identifier: { value: principal.sub } }),
        ...(principal.fhirUser === undefined ? {} : { reference: principal.fhirUser }),
      },
    });
  }
  agents.push({
    ...network,
    requestor: agents.length === 0,
    type: { coding: [AGENT_CLIENT] },
    who:
      principal?.clientId === undefined
        ? { display: 'anonymous' }
        : { identifier: { system: 'urn:hearth:client', value: principal.clientId } },
  });
  agents.push({ requestor: false, type: { coding: [AGENT_SERVER] }, who: { display: 'Hearth' } });
  return agents;
}

function customHeaderExtensions(headers: Record<string, string>): Extension[] {
  return Object.entries(headers).map(([name, value]) => ({
    extension: [
      { url: 'name', valueString: name },
      { url: 'value', valueString: value },
    ],
    url: CUSTOM_HEADER_EXTENSION,
  }));
}

export interface RestAuditInput {
  requestId: string;
  recorded: Date;
  site: string;
  /** BALP subtype: a restful-interaction code (`read`, `search-type`…) or an operation name. */
  interaction: string;
  action: AuditAction;
  status: number;
  /** Only its names are recorded (a whole Principal is accepted). */
  principal: (Pick<Principal, 'sub' | 'clientId' | 'fhirUser'> & Partial<Principal>) | undefined;
  clientIp: string | undefined;
  method: string;
  /** The request path and query relative to the FHIR base (`Observation?code=…`). */
  url: string;
  /** Whether `url` is a query whose text belongs in entity.query. */
  isQuery: boolean;
  /** `Type/id` or `Type/id/_history/v` of every resource disclosed or changed. */
  entities: string[];
  /** Ids of the patients whose data was disclosed or changed. */
  patients: string[];
  /**
   * When known (bulk file downloads), which of `entities` belong to which patient: each patient's
   * AuditEvent then names only that patient's resources, and resources of no patient go in one
   * event without a patient. Without it every patient's event names every entity, which for an
   * export file would grow as patients × resources.
   */
  entitiesByPatient?: ReadonlyMap<string, readonly string[]> | undefined;
  customHeaders: Record<string, string>;
  /** Why a request was refused (stable code and message). */
  reason?: string | undefined;
}

const REST_CODES = new Set([
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history',
  'history-instance',
  'history-type',
  'history-system',
  'create',
  'search',
  'search-type',
  'search-system',
  'capabilities',
  'transaction',
  'batch',
  'operation',
]);

/**
 * The AuditEvents of one REST request (IHE BALP): one per patient whose data was disclosed or
 * changed (BALP PatientRead/PatientQuery), or one without a patient entity when none was.
 */
export function restAuditEvents(input: RestAuditInput): AuditEvent[] {
  const subtype = REST_CODES.has(input.interaction)
    ? { code: input.interaction, system: RESTFUL_INTERACTION }
    : { code: input.interaction, system: HEARTH_AUDIT };
  const leading: AuditEventEntity[] = [];
  if (input.isQuery) {
    leading.push({
      description: `${input.method} ${input.url}`,
      query: Buffer.from(input.url, 'utf8').toString('base64'),
      role: ROLE_QUERY,
      type: ENTITY_SYSTEM_OBJECT,
    });
  }
  const domain = (refs: readonly string[]): AuditEventEntity[] =>
    refs.map((e) => ({
      role: ROLE_DOMAIN_RESOURCE,
      type: ENTITY_SYSTEM_OBJECT,
      what: { reference: e },
    }));
  const job: AuditEventEntity = {
    role: ROLE_JOB,
    type: ENTITY_SYSTEM_OBJECT,
    what: { identifier: { system: 'urn:hearth:request-id', value: input.requestId } },
  };
  const entities = [...leading, ...domain(input.entities), job];
  const hasExtension = Object.keys(input.customHeaders).length > 0;
  const base: AuditEvent = {
    action: input.action,
    agent: agentsFor(input.principal, input.clientIp),
    entity: entities,
    ...(hasExtension ? { extension: customHeaderExtensions(input.customHeaders) } : {}),
    outcome: outcomeForStatus(input.status),
    outcomeDesc:
      input.reason === undefined ? `HTTP ${input.status}` : `HTTP ${input.status}: ${input.reason}`,
    recorded: input.recorded.toISOString(),
    resourceType: 'AuditEvent',
    source: auditSource(input.site),
    subtype: [subtype],
    type: REST_TYPE,
  };
  if (input.patients.length === 0) return [base];
  const patientEntity = (id: string): AuditEventEntity => ({
    role: ROLE_PATIENT,
    type: ENTITY_PERSON,
    what: { reference: `Patient/${id}` },
  });
  const byPatient = input.entitiesByPatient;
  if (byPatient === undefined) {
    return input.patients.map((id) => ({ ...base, entity: [patientEntity(id), ...entities] }));
  }
  const attached = new Set<string>();
  const events = input.patients.map((id): AuditEvent => {
    const own = byPatient.get(id) ?? [];
    for (const e of own) attached.add(e);
    return { ...base, entity: [patientEntity(id), ...leading, ...domain(own), job] };
  });
  const unattached = input.entities.filter((e) => !attached.has(e));
  if (unattached.length > 0)
    events.push({ ...base, entity: [...leading, ...domain(unattached), job] });
  return events;
}

/** An authentication/authorization-server event, as the composition root feeds them from auth. */
export interface AuthAuditInput {
  kind: AuthEventKind;
  success: boolean;
  recorded?: Date;
  site: string;
  /** The user's account id (`sub`) and fhirUser, when known. */
  sub?: string | undefined;
  fhirUser?: string | undefined;
  clientId?: string | undefined;
  clientIp?: string | undefined;
  /** The patient the event concerns (e.g. the one picked in the patient picker or in a token). */
  patient?: string | undefined;
  /** Granted or requested scopes. */
  scope?: string | undefined;
  /** A short reason for a failure (an OAuth error code, never a secret). */
  reason?: string | undefined;
}

export function authAuditEvent(input: AuthAuditInput): AuditEvent {
  const entities: AuditEventEntity[] = [];
  if (input.patient !== undefined) {
    entities.push({
      what: { reference: `Patient/${input.patient}` },
      type: ENTITY_PERSON,
      role: ROLE_PATIENT,
    });
  }
  if (input.scope !== undefined) {
    entities.push({
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_QUERY,
      description: `scope: ${input.scope}`,
    });
  }
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: AUTHENTICATION_TYPE,
    subtype: [AUTH_SUBTYPES[input.kind]],
    action: 'E',
    recorded: (input.recorded ?? new Date()).toISOString(),
    outcome: input.success ? '0' : '4',
    agent: agentsFor(
      { sub: input.sub, clientId: input.clientId, fhirUser: input.fhirUser },
      input.clientIp,
    ),
    source: auditSource(input.site),
  };
  if (input.reason !== undefined) event.outcomeDesc = input.reason;
  if (entities.length > 0) event.entity = entities;
  return event;
}

/** An administrative event: CLI changes, `hearth import`, demo seeding. */
export interface AdminAuditInput {
  /** e.g. `client-add`, `user-disable`, `import`, `demo-seed`, `keys-rotate`. */
  activity: string;
  action: AuditAction;
  success: boolean;
  site: string;
  /** Who ran it (OS user or `hearth-cli`). */
  actor?: string;
  /** What it touched (`Patient/1`, `client:abc`, a file name…). */
  what?: string[];
  detail?: string;
  recorded?: Date;
}

export function adminAuditEvent(input: AdminAuditInput): AuditEvent {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: APPLICATION_ACTIVITY_TYPE,
    subtype: [{ system: HEARTH_AUDIT, code: input.activity }],
    action: input.action,
    recorded: (input.recorded ?? new Date()).toISOString(),
    outcome: input.success ? '0' : '4',
    agent: [{ who: { display: input.actor ?? 'hearth-cli' }, requestor: true }],
    source: auditSource(input.site),
  };
  if (input.detail !== undefined) event.outcomeDesc = input.detail;
  const what = input.what ?? [];
  if (what.length > 0) {
    event.entity = what.map((w) =>
      /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+$/.test(w)
        ? { what: { reference: w }, type: ENTITY_SYSTEM_OBJECT, role: ROLE_DOMAIN_RESOURCE }
        : { what: { display: w }, type: ENTITY_SYSTEM_OBJECT },
    );
  }
  return event;
}

import type { AuditEvent, Coding } from '@medplum/fhirtypes';

/** The search parameters of `/fhir/AuditEvent` that are answered from derived rows. */
export type AuditRefParam =
  'agent' | 'entity' | 'patient' | 'action' | 'outcome' | 'type' | 'subtype';

export interface AuditRef {
  param: AuditRefParam;
  value: string;
}

function tokens(param: AuditRefParam, coding: Coding | undefined): AuditRef[] {
  if (coding?.code === undefined) return [];
  const out: AuditRef[] = [{ param, value: coding.code }];
  if (coding.system !== undefined) out.push({ param, value: `${coding.system}|${coding.code}` });
  return out;
}

/** The values an AuditEvent is found by (references as `Type/id`, tokens as `code` and `system|code`). */
export function indexValues(event: AuditEvent): AuditRef[] {
  const refs: AuditRef[] = [];
  for (const agent of event.agent) {
    if (agent.who?.reference !== undefined)
      refs.push({ param: 'agent', value: agent.who.reference });
    if (agent.who?.identifier?.value !== undefined) {
      refs.push({ param: 'agent', value: agent.who.identifier.value });
    }
    if (agent.altId !== undefined) refs.push({ param: 'agent', value: agent.altId });
    if (agent.who?.reference?.startsWith('Patient/') === true) {
      refs.push({ param: 'patient', value: agent.who.reference });
    }
  }
  for (const entity of event.entity ?? []) {
    const ref = entity.what?.reference;
    if (ref === undefined) continue;
    refs.push({ param: 'entity', value: ref });
    const unversioned = ref.replace(/\/_history\/.*$/, '');
    if (unversioned !== ref) refs.push({ param: 'entity', value: unversioned });
    if (unversioned.startsWith('Patient/')) refs.push({ param: 'patient', value: unversioned });
  }
  if (event.action !== undefined) refs.push({ param: 'action', value: event.action });
  if (event.outcome !== undefined) refs.push({ param: 'outcome', value: event.outcome });
  refs.push(...tokens('type', event.type));
  for (const s of event.subtype ?? []) refs.push(...tokens('subtype', s));
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.param}\u0000${r.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

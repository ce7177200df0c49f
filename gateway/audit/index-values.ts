import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';

/** The search parameters of `/fhir/AuditEvent` that are answered from derived rows. */
export type AuditRefParam =
  'agent' | 'entity' | 'patient' | 'action' | 'outcome' | 'type' | 'subtype';

export interface AuditRef {
  param: AuditRefParam;
  value: string;
}

/**
 * The search values of agents and entities, by object: the events of one request (one per
 * disclosed patient) share them, so each is derived once per batch.
 */
export type IndexMemo = WeakMap<AuditEventAgent | AuditEventEntity, readonly AuditRef[]>;

function tokens(param: AuditRefParam, coding: Coding | undefined): AuditRef[] {
  if (coding?.code === undefined) return [];
  const out: AuditRef[] = [{ param, value: coding.code }];
  if (coding.system !== undefined) out.push({ param, value: `${coding.system}|${coding.code}` });
  return out;
}

function agentValues(agent: AuditEventAgent): AuditRef[] {
  const refs: AuditRef[] = [];
  if (agent.who?.reference !== undefined) refs.push({ param: 'agent', value: agent.who.reference });
  if (agent.who?.identifier?.value !== undefined) {
    refs.push({ param: 'agent', value: agent.who.identifier.value });
  }
  if (agent.altId !== undefined) refs.push({ param: 'agent', value: agent.altId });
  if (agent.who?.reference?.startsWith('Patient/') === true) {
    refs.push({ param: 'patient', value: agent.who.reference });
  }
  return refs;
}

function entityValues(entity: AuditEventEntity): AuditRef[] {
  const ref = entity.what?.reference;
  if (ref === undefined) return [];
  const refs: AuditRef[] = [{ param: 'entity', value: ref }];
  const unversioned = ref.replace(/\/_history\/.*$/, '');
  if (unversioned !== ref) refs.push({ param: 'entity', value: unversioned });
  if (unversioned.startsWith('Patient/')) refs.push({ param: 'patient', value: unversioned });
  return refs;
}

function memoised<T extends AuditEventAgent | AuditEventEntity>(
  memo: IndexMemo | undefined,
  part: T,
  derive: (p: T) => AuditRef[],
): readonly AuditRef[] {
  if (memo === undefined) return derive(part);
  let refs = memo.get(part);
  if (refs === undefined) {
    refs = derive(part);
    memo.set(part, refs);
  }
  return refs;
}

/** The values an AuditEvent is found by (references as `Type/id`, tokens as `code` and `system|code`). */
export function indexValues(event: AuditEvent, memo?: IndexMemo): AuditRef[] {
  const out: AuditRef[] = [];
  const seen = new Map<AuditRefParam, Set<string>>();
  const add = (r: AuditRef): void => {
    let values = seen.get(r.param);
    if (values === undefined) {
      values = new Set();
      seen.set(r.param, values);
    }
    if (values.has(r.value)) return;
    values.add(r.value);
    out.push(r);
  };
  for (const agent of event.agent) for (const r of memoised(memo, agent, agentValues)) add(r);
  for (const entity of event.entity ?? []) {
    for (const r of memoised(memo, entity, entityValues)) add(r);
  }
  if (event.action !== undefined) add({ param: 'action', value: event.action });
  if (event.outcome !== undefined) add({ param: 'outcome', value: event.outcome });
  for (const r of tokens('type', event.type)) add(r);
  for (const s of event.subtype ?? []) for (const r of tokens('subtype', s)) add(r);
  return out;
}

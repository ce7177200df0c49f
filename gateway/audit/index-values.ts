import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';

/** The search parameters of `/fhir/AuditEvent` that are answered from derived rows. */
export type AuditRefParam =
  'agent' | 'entity' | 'patient' | 'action' | 'outcome' | 'type' | 'subtype';

/**
 * How a search row is stored: a reference to a Patient that is an entity is ONE row that answers
 * both `entity` and `patient` (`entity+patient`), so a read costs one random index entry, not two.
 */
export type StoredRefParam = AuditRefParam | 'entity+patient';

/**
 * One search row's value. An entity reference is stored unversioned, with its version (if any) in
 * `ver`: `Patient/1/_history/2` is `Patient/1` with ver `2` (found by both forms); rows written
 * before kept versioned references whole in `value`, with ver `''`.
 */
export interface AuditRef {
  param: StoredRefParam;
  value: string;
  ver: string;
}

/**
 * The search values of agents and entities, by object: the events of one request (one per
 * disclosed patient) share them, so each is derived once per batch.
 */
export type IndexMemo = WeakMap<AuditEventAgent | AuditEventEntity, readonly AuditRef[]>;

function tokens(param: AuditRefParam, coding: Coding | undefined): AuditRef[] {
  if (coding?.code === undefined) return [];
  const out: AuditRef[] = [{ param, value: coding.code, ver: '' }];
  if (coding.system !== undefined) {
    out.push({ param, value: `${coding.system}|${coding.code}`, ver: '' });
  }
  return out;
}

function agentValues(agent: AuditEventAgent): AuditRef[] {
  const refs: AuditRef[] = [];
  const who = agent.who;
  if (who?.reference !== undefined) refs.push({ param: 'agent', value: who.reference, ver: '' });
  if (who?.identifier?.value !== undefined) {
    refs.push({ param: 'agent', value: who.identifier.value, ver: '' });
  }
  if (agent.altId !== undefined) refs.push({ param: 'agent', value: agent.altId, ver: '' });
  if (who?.reference?.startsWith('Patient/') === true) {
    refs.push({ param: 'patient', value: who.reference, ver: '' });
  }
  return refs;
}

const HISTORY = '/_history/';

/** `Type/id/_history/v` as [`Type/id`, `v`]; anything else as [itself, '']. */
export function splitVersion(ref: string): [string, string] {
  const at = ref.indexOf(HISTORY);
  return at < 0 ? [ref, ''] : [ref.slice(0, at), ref.slice(at + HISTORY.length)];
}

function entityValues(entity: AuditEventEntity): AuditRef[] {
  const ref = entity.what?.reference;
  if (ref === undefined) return [];
  const [value, ver] = splitVersion(ref);
  return [{ param: value.startsWith('Patient/') ? 'entity+patient' : 'entity', value, ver }];
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

/**
 * The values an AuditEvent is found by (references as `Type/id` with their version apart, tokens
 * as `code` and `system|code`), each once: an unversioned reference is left out when the event
 * also names a version of it (that row answers the unversioned search too).
 */
export function indexValues(event: AuditEvent, memo?: IndexMemo): AuditRef[] {
  const out: AuditRef[] = [];
  /** By `param value`: the rows so far. */
  const seen = new Map<string, AuditRef[]>();
  const add = (r: AuditRef): void => {
    const key = `${r.param} ${r.value}`;
    const same = seen.get(key);
    if (same === undefined) {
      const row = { ...r };
      seen.set(key, [row]);
      out.push(row);
      return;
    }
    if (same.some((x) => x.ver === r.ver)) return;
    const bare = same.find((x) => x.ver === '');
    if (bare !== undefined) {
      // A version replaces the bare reference's row (a copy: memoised refs are shared).
      bare.ver = r.ver;
      return;
    }
    if (r.ver === '') return;
    const row = { ...r };
    same.push(row);
    out.push(row);
  };
  for (const agent of event.agent) for (const r of memoised(memo, agent, agentValues)) add(r);
  for (const entity of event.entity ?? []) {
    for (const r of memoised(memo, entity, entityValues)) add(r);
  }
  if (event.action !== undefined) add({ param: 'action', value: event.action, ver: '' });
  if (event.outcome !== undefined) add({ param: 'outcome', value: event.outcome, ver: '' });
  for (const r of tokens('type', event.type)) add(r);
  for (const s of event.subtype ?? []) for (const r of tokens('subtype', s)) add(r);
  return out;
}

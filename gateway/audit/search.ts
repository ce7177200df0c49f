import type { AuditEvent } from '@medplum/fhirtypes';
import { splitVersion, type AuditRefParam, type StoredRefParam } from './index-values.js';

/** A parsed `/fhir/AuditEvent` search: each list is AND of its entries, each entry OR of its values. */
export interface AuditQuery {
  date?: string[];
  refs?: Partial<Record<AuditRefParam, string[][]>>;
  count: number;
  offset: number;
}

export interface AuditPage {
  events: AuditEvent[];
  total: number;
}

export class AuditQueryError extends Error {
  override readonly name = 'AuditQueryError';
}

const PREFIXES = ['eq', 'ge', 'gt', 'le', 'lt', 'ne'] as const;
type Prefix = (typeof PREFIXES)[number];

/** The half-open range [start, end) an ISO date or instant of some precision denotes. */
export function dateRange(value: string): [string, string] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value);
  if (m !== null) {
    const y = Number(m[1]);
    const mo = m[2] === undefined ? undefined : Number(m[2]) - 1;
    const d = m[3] === undefined ? undefined : Number(m[3]);
    const start = new Date(Date.UTC(y, mo ?? 0, d ?? 1));
    const end =
      d !== undefined
        ? new Date(Date.UTC(y, mo ?? 0, d + 1))
        : mo !== undefined
          ? new Date(Date.UTC(y, mo + 1, 1))
          : new Date(Date.UTC(y + 1, 0, 1));
    if (Number.isNaN(start.getTime())) throw new AuditQueryError(`bad date: ${value}`);
    return [start.toISOString(), end.toISOString()];
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new AuditQueryError(`bad date: ${value}`);
  }
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) throw new AuditQueryError(`bad date: ${value}`);
  const seconds = /:\d{2}:\d{2}/.test(value);
  return [new Date(t).toISOString(), new Date(t + (seconds ? 1000 : 60_000)).toISOString()];
}

function dateCondition(raw: string, params: string[]): string {
  const prefix: Prefix = (PREFIXES as readonly string[]).includes(raw.slice(0, 2))
    ? (raw.slice(0, 2) as Prefix)
    : 'eq';
  const value = prefix === 'eq' && !raw.startsWith('eq') ? raw : raw.slice(2);
  const [start, end] = dateRange(value);
  switch (prefix) {
    case 'eq':
      params.push(start, end);
      return 'recorded >= ? AND recorded < ?';
    case 'ne':
      params.push(start, end);
      return '(recorded < ? OR recorded >= ?)';
    case 'ge':
      params.push(start);
      return 'recorded >= ?';
    case 'gt':
      params.push(end);
      return 'recorded >= ?';
    case 'le':
      params.push(end);
      return 'recorded < ?';
    case 'lt':
      params.push(start);
      return 'recorded < ?';
  }
}

/** The params whose rows may answer a search param (see StoredRefParam in index-values.ts). */
const STORED_AS: Partial<Record<AuditRefParam, readonly StoredRefParam[]>> = {
  entity: ['entity', 'entity+patient'],
  patient: ['patient', 'entity+patient'],
};

/**
 * The search rows matching any of `values` for `param`. An entity is stored unversioned with its
 * version apart, so a versioned entity value matches that row's version, or (rows written before)
 * the whole versioned reference.
 */
function rowCondition(
  param: AuditRefParam,
  values: readonly string[],
): { sql: string; params: string[] } {
  const stored: readonly StoredRefParam[] = STORED_AS[param] ?? [param];
  const inStored = `x.param IN (${stored.map(() => '?').join(', ')})`;
  const isVersioned = (v: string): boolean => param === 'entity' && splitVersion(v)[1] !== '';
  const plain = values.filter((v) => !isVersioned(v));
  const versioned = values.filter(isVersioned);
  const parts: string[] = [];
  const params: string[] = [];
  if (plain.length > 0) {
    parts.push(`(${inStored} AND x.value IN (${plain.map(() => '?').join(', ')}))`);
    params.push(...stored, ...plain);
  }
  for (const v of versioned) {
    const [value, ver] = splitVersion(v);
    parts.push(
      `(${inStored} AND x.value = ? AND x.ver = ?)`,
      `(x.param = ? AND x.value = ? AND x.ver = '')`,
    );
    params.push(...stored, value, ver, param, v);
  }
  return { sql: parts.length === 1 ? (parts[0] ?? '') : `(${parts.join(' OR ')})`, params };
}

export interface AuditSearchSql {
  count: { sql: string; params: (string | number)[] };
  page: { sql: string; params: (string | number)[] };
}

/**
 * The two queries of a search (total, and the page newest first) with `?` placeholders, over the
 * `audit_record` / `audit_ref` tables both stores share.
 */
export function auditSearchSql(q: AuditQuery): AuditSearchSql {
  const where: string[] = [];
  const params: (string | number)[] = [];
  for (const d of q.date ?? []) {
    const p: string[] = [];
    where.push(dateCondition(d, p));
    params.push(...p);
  }
  for (const [param, groups] of Object.entries(q.refs ?? {}) as [AuditRefParam, string[][]][]) {
    for (const values of groups) {
      const rows = rowCondition(param, values);
      where.push(
        // A search row covers records seq … seq + span (see RefSpans in chain.ts).
        `seq IN (SELECT r.seq FROM audit_ref x JOIN audit_record r ON r.seq BETWEEN x.seq AND x.seq + x.span WHERE ${rows.sql})`,
      );
      params.push(...rows.params);
    }
  }
  const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  return {
    count: { sql: `SELECT count(*) AS n FROM audit_record ${clause}`, params },
    page: {
      sql: `SELECT event FROM audit_record ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`,
      params: [...params, q.count, q.offset],
    },
  };
}

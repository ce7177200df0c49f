import { badRequest, forbidden, isResourceType, notSupported } from '../../store/index.js';
import { allResourceTypes, inPatientCompartment } from '../authz/resource-types.js';
import { readFilters, type BulkAccess } from './access.js';
import type { ExportParams } from './job.js';
import { instantParam, listOf, single, type KickoffParams } from './kickoff-params.js';

/**
 * The `$export` kick-off parameters (Bulk Data IG v2) turned into a job's ExportParams, limited to
 * what the caller's scopes allow. Unsupported parameters are a 400 unless `Prefer: handling=lenient`.
 */

/** `application/fhir ndjson`: an unencoded `+` in a query string, as some clients send it. */
const FORMATS = new Set([
  'application/fhir+ndjson',
  'application/fhir ndjson',
  'application/ndjson',
  'ndjson',
]);
const KNOWN = new Set([
  '_outputFormat',
  '_since',
  '_until',
  '_till',
  '_type',
  '_typeFilter',
  '_elements',
  'patient',
  'includeAssociatedData',
]);
/** `includeAssociatedData` values (Bulk Data IG v2) and what they select. */
const ASSOCIATED = new Map<string, 'latest' | 'relevant'>([
  ['LatestProvenanceResources', 'latest'],
  ['RelevantProvenanceResources', 'relevant'],
]);
/** Served by the audit trail, not the store: never part of an export. */
const NOT_EXPORTED = new Set(['AuditEvent']);

export interface ExportTarget {
  level: 'system' | 'patient' | 'group';
  groupId?: string;
}

function typesOf(params: KickoffParams, target: ExportTarget, access: BulkAccess): string[] {
  const requested = listOf(params, '_type');
  for (const t of requested)
    if (!isResourceType(t)) throw badRequest(`_type: unknown resource type ${t}`, ['_type']);
  const candidates = (requested.length > 0 ? [...new Set(requested)] : allResourceTypes())
    .filter((t) => !NOT_EXPORTED.has(t))
    .filter((t) => target.level === 'system' || inPatientCompartment(t));
  const allowed = candidates.filter((t) => readFilters(access, t) !== null);
  const refused = requested.filter((t) => !allowed.includes(t));
  if (refused.length > 0)
    throw forbidden(`the token's scopes do not allow exporting ${refused.join(', ')}`);
  return allowed.sort();
}

function typeFilters(params: KickoffParams, types: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const raw of params.get('_typeFilter') ?? []) {
    const f = raw.includes('?') ? raw : decodeURIComponent(raw);
    const q = f.indexOf('?');
    const type = f.slice(0, q);
    if (q < 0 || !isResourceType(type))
      throw badRequest(`_typeFilter must be Type?query: ${raw}`, ['_typeFilter']);
    if (!types.includes(type)) continue;
    (out[type] ??= []).push(f.slice(q + 1));
  }
  return out;
}

function elements(params: KickoffParams, types: readonly string[]): Record<string, string[]> {
  const list = listOf(params, '_elements');
  const out: Record<string, string[]> = {};
  if (list.length === 0) return out;
  for (const e of list) {
    if (!/^([A-Z][A-Za-z]+\.)?[a-z][A-Za-z0-9]*$/.test(e))
      throw badRequest(`_elements: bad element ${e}`, ['_elements']);
  }
  for (const t of types) {
    out[t] = list.flatMap((e) => {
      const dot = e.indexOf('.');
      if (dot < 0) return [e];
      return e.slice(0, dot) === t ? [e.slice(dot + 1)] : [];
    });
  }
  return out;
}

function patientsOf(params: KickoffParams, target: ExportTarget): string[] | undefined {
  const refs = listOf(params, 'patient');
  if (refs.length === 0) return undefined;
  if (target.level === 'system')
    throw badRequest('patient applies to Patient and Group exports only', ['patient']);
  return refs.map((r) => {
    const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(r);
    if (m?.[1] === undefined) throw badRequest(`patient: bad reference ${r}`, ['patient']);
    return m[1];
  });
}

/**
 * `includeAssociatedData`: Relevant (all) wins over Latest; an unknown value is a 400, or a
 * warning in the manifest's `error[]` under `handling=lenient`. Provenance must be readable.
 */
function associated(
  params: KickoffParams,
  access: BulkAccess,
  lenient: boolean,
  warnings: string[],
): ExportParams['associated'] {
  let mode: 'latest' | 'relevant' | undefined;
  for (const v of listOf(params, 'includeAssociatedData')) {
    const m = ASSOCIATED.get(v);
    if (m === 'relevant' || (m === 'latest' && mode === undefined)) mode = m;
    else if (m !== undefined) continue;
    else if (lenient) warnings.push(`includeAssociatedData=${v} is not supported and was ignored`);
    else
      throw notSupported(
        `includeAssociatedData=${v} is not supported (LatestProvenanceResources and RelevantProvenanceResources are)`,
      );
  }
  if (mode === undefined) return undefined;
  const filters = readFilters(access, 'Provenance');
  if (filters === null) {
    const why = "includeAssociatedData needs Provenance, which the token's scopes do not allow";
    if (!lenient) throw forbidden(why);
    warnings.push(`${why}; no associated data was exported`);
    return undefined;
  }
  return { mode, ...(filters === undefined ? {} : { scopeFilters: filters }) };
}

export function exportParams(
  params: KickoffParams,
  target: ExportTarget,
  access: BulkAccess,
  lenient: boolean,
  now: number,
): ExportParams {
  const warnings: string[] = [];
  for (const name of params.keys()) {
    if (KNOWN.has(name)) continue;
    if (!lenient) throw notSupported(`$export does not support ${name}`);
    warnings.push(`parameter ${name} is not supported and was ignored`);
  }
  const format = single(params, '_outputFormat');
  if (format !== undefined && !FORMATS.has(format)) {
    throw badRequest(`_outputFormat ${format} is not supported (application/fhir+ndjson is)`, [
      '_outputFormat',
    ]);
  }
  if (params.has('_until') && params.has('_till'))
    throw badRequest('give _until or _till, not both');
  const since = instantParam(params, '_since');
  const until = Math.min(
    instantParam(params, '_until') ?? instantParam(params, '_till') ?? now,
    now,
  );
  const types = typesOf(params, target, access);
  const scopeFilters: Record<string, string[]> = {};
  for (const t of types) {
    const f = readFilters(access, t);
    if (f !== undefined && f !== null) scopeFilters[t] = f;
  }
  const out: ExportParams = {
    level: target.level,
    types,
    until,
    typeFilters: typeFilters(params, types),
    scopeFilters,
    elements: elements(params, types),
  };
  if (target.groupId !== undefined) out.groupId = target.groupId;
  if (since !== undefined) out.since = since;
  const patients = patientsOf(params, target);
  if (patients !== undefined) out.patients = patients;
  const assoc = associated(params, access, lenient, warnings);
  if (assoc !== undefined) out.associated = assoc;
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

import { randomUUID } from 'node:crypto';
import {
  badRequest,
  FhirError,
  issue,
  methodNotAllowed,
  notFound,
  outcome,
  payloadTooLarge,
} from '../../store/index.js';
import type { Principal } from '../auth/principal.js';
import type { DataAction } from '../authz/data-actions.js';
import type { Grant } from '../authz/grant.js';
import type { RoleSet } from '../authz/roles.js';
import { FHIR_JSON } from '../errors.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';
import { bulkAccess } from './access.js';
import type { Bucket } from './bucket.js';
import { entitiesOf, sendFile, sendObject } from './download.js';
import { exportParams, type ExportTarget } from './export-kickoff.js';
import { importParams } from './import-kickoff.js';
import type { ExportJob, ImportJob, Job } from './job.js';
import type { JobStore } from './job-store.js';
import type { BulkJobs } from './jobs.js';
import { exportManifest, importManifest, progressOf } from './manifest.js';
import { paramsFromBody, paramsFromQuery } from './kickoff-params.js';
import type { BulkSource } from './source.js';

/**
 * The Bulk Data endpoints below the FHIR base, answered by the gateway itself:
 * kick-off `$export` (system, `Patient/`, `Group/[id]/`) and `$import`; status and cancel at
 * `_operations/{export|import}/{id}`; downloads at `_bulk-files/{id}/{file}`.
 */

export interface BulkRoutesOptions {
  fhirBase: string;
  roles: RoleSet;
  grantsOf: (p: Principal) => readonly Grant[];
  jobs: BulkJobs;
  store: JobStore;
  source: BulkSource;
  importDir: string | undefined;
  maxBodyBytes: number;
  /** The export bucket, when configured. */
  bucket: Bucket | undefined;
}

const RETRY_AFTER_S = 2;

async function readBody(ctx: GatewayContext, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) throw payloadTooLarge(`the request body is larger than ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function prefer(ctx: GatewayContext): { async: boolean; lenient: boolean } {
  const p = ctx.get('prefer').toLowerCase();
  return { async: /\brespond-async\b/.test(p), lenient: /\bhandling\s*=\s*lenient\b/.test(p) };
}

function principalOf(ctx: GatewayContext): Principal {
  const p = ctx.state.principal;
  if (p === undefined)
    throw new FhirError(401, [issue('error', 'login', 'an access token is required')]);
  return p;
}

function ownerOf(p: Principal): string {
  return p.clientId ?? p.sub ?? '';
}

function exportTarget(path: string): ExportTarget | undefined {
  if (path === '$export') return { level: 'system' };
  if (path === 'Patient/$export') return { level: 'patient' };
  const m = /^Group\/([A-Za-z0-9\-.]{1,64})\/\$export$/.exec(path);
  return m?.[1] === undefined ? undefined : { level: 'group', groupId: m[1] };
}

function accepted(ctx: GatewayContext, o: BulkRoutesOptions, kind: string, id: string): void {
  ctx.status = 202;
  ctx.set('Content-Location', `${o.fhirBase}/_operations/${kind}/${id}`);
  ctx.type = FHIR_JSON;
  ctx.body = JSON.stringify(
    outcome([issue('information', 'informational', `${kind} job ${id} accepted`)]),
  );
}

function groupPatients(group: Record<string, unknown>): string[] {
  const members = Array.isArray(group.member)
    ? (group.member as { entity?: { reference?: unknown } }[])
    : [];
  const out: string[] = [];
  for (const m of members) {
    const ref = m.entity?.reference;
    const match =
      typeof ref === 'string' ? /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
    if (match?.[1] !== undefined) out.push(match[1]);
  }
  return out;
}

function newJobBase(ctx: GatewayContext, owner: string, now: number) {
  return {
    id: randomUUID(),
    owner,
    status: 'in-progress' as const,
    request: ctx.href,
    transactionTime: new Date(now).toISOString(),
    createdAt: new Date(now).toISOString(),
    output: [],
    error: [],
  };
}

async function kickoffExport(ctx: GatewayContext, o: BulkRoutesOptions, target: ExportTarget) {
  ctx.state.audit.subtype = 'export';
  ctx.state.audit.action = 'E';
  if (ctx.method !== 'GET' && ctx.method !== 'POST')
    throw methodNotAllowed('$export takes GET or POST');
  const p = principalOf(ctx);
  const access = bulkAccess(p, o.grantsOf(p), o.roles, 'export', o.fhirBase);
  const pref = prefer(ctx);
  if (!pref.async) throw badRequest('$export needs the header Prefer: respond-async');
  const params =
    ctx.method === 'POST'
      ? paramsFromBody(await readBody(ctx, o.maxBodyBytes))
      : paramsFromQuery(new URLSearchParams(ctx.querystring));
  if (ctx.method === 'GET' && params.has('patient'))
    throw badRequest('patient is accepted with POST only', ['patient']);
  const now = Date.now();
  const ep = exportParams(params, target, access, pref.lenient, now);
  if (target.groupId !== undefined) {
    const group = await o.source.readGroup(target.groupId);
    if (group === undefined) throw notFound(`Group/${target.groupId} is not known`);
    const members = groupPatients(group);
    ep.patients =
      ep.patients === undefined ? members : ep.patients.filter((x) => members.includes(x));
    ctx.state.audit.entities = [`Group/${target.groupId}`];
  }
  const job: ExportJob = {
    ...newJobBase(ctx, ownerOf(p), ep.until),
    kind: 'export',
    params: ep,
    cursor: { typeIndex: 0, afterRid: 0, part: 1, partCount: 0, partBytes: 0 },
    resources: 0,
  };
  await o.jobs.submit(job);
  accepted(ctx, o, 'export', job.id);
}

async function kickoffImport(ctx: GatewayContext, o: BulkRoutesOptions) {
  ctx.state.audit.subtype = 'import';
  ctx.state.audit.action = 'C';
  if (ctx.method !== 'POST') throw methodNotAllowed('$import takes POST');
  const p = principalOf(ctx);
  const access = bulkAccess(p, o.grantsOf(p), o.roles, 'import', o.fhirBase);
  if (!prefer(ctx).async) throw badRequest('$import needs the header Prefer: respond-async');
  const params = importParams(
    await readBody(ctx, o.maxBodyBytes),
    o.importDir,
    access.write,
    o.bucket,
  );
  for (const input of params.inputs) {
    if (input.key !== undefined && (await o.bucket?.size(input.key)) === undefined)
      throw badRequest(`input ${input.url} does not exist`, ['input']);
  }
  const job: ImportJob = {
    ...newJobBase(ctx, ownerOf(p), Date.now()),
    kind: 'import',
    params,
    cursor: { inputIndex: 0, line: 1, counts: {}, errors: 0, errorBytes: 0 },
  };
  await o.jobs.submit(job);
  accepted(ctx, o, 'import', job.id);
}

/** The caller's own job of this kind, else 404 (never revealing that someone else's exists). */
async function ownJob(
  ctx: GatewayContext,
  o: BulkRoutesOptions,
  kind: string,
  id: string,
): Promise<Job> {
  const action: DataAction = kind === 'import' ? 'import' : 'export';
  ctx.state.audit.subtype = action;
  const p = principalOf(ctx);
  bulkAccess(p, o.grantsOf(p), o.roles, action, o.fhirBase);
  const job = await o.store.load(id);
  const expired = job?.expiresAt !== undefined && Date.parse(job.expiresAt) <= Date.now();
  if (
    job === undefined ||
    job.kind !== kind ||
    job.owner !== ownerOf(p) ||
    expired ||
    (await o.store.isCancelled(job))
  ) {
    throw notFound(`no ${kind} job ${id}`);
  }
  return job;
}

async function status(ctx: GatewayContext, o: BulkRoutesOptions, kind: string, id: string) {
  const job = await ownJob(ctx, o, kind, id);
  if (ctx.method === 'DELETE') {
    ctx.state.audit.action = 'D';
    await o.jobs.cancel(job);
    ctx.status = 202;
    ctx.type = FHIR_JSON;
    ctx.body = JSON.stringify(
      outcome([issue('information', 'informational', `${kind} job ${id} cancelled`)]),
    );
    return;
  }
  if (ctx.method !== 'GET') throw methodNotAllowed('status takes GET or DELETE');
  ctx.state.audit.action = 'R';
  ctx.set('Cache-Control', 'no-store');
  if (job.status === 'in-progress') {
    ctx.status = 202;
    ctx.set('X-Progress', progressOf(job, await o.jobs.queuePosition(job)));
    ctx.set('Retry-After', String(RETRY_AFTER_S));
    return;
  }
  if (job.status === 'failed') {
    throw new FhirError(500, [
      issue('error', 'exception', `the ${kind} job failed: ${job.failure ?? 'unknown error'}`),
    ]);
  }
  ctx.status = 200;
  if (job.expiresAt !== undefined) ctx.set('Expires', new Date(job.expiresAt).toUTCString());
  ctx.type = 'application/json';
  const base = `${o.fhirBase}/_bulk-files/${id}`;
  ctx.body = JSON.stringify(
    job.kind === 'export' ? exportManifest(job, base) : importManifest(job, base),
  );
}

async function download(ctx: GatewayContext, o: BulkRoutesOptions, id: string, name: string) {
  if (ctx.method !== 'GET') throw methodNotAllowed('files take GET');
  const peek = await o.store.load(id);
  const job = await ownJob(ctx, o, peek?.kind ?? 'export', id);
  ctx.state.audit.action = 'R';
  const listed = [...job.output, ...job.error].find((f) => f.file === name);
  const file = o.store.file(id, name);
  if (listed === undefined || file === undefined || job.status !== 'completed')
    throw notFound(`no file ${name} in job ${id}`);
  if (job.kind === 'export') {
    const { entities, patients, byPatient } = await entitiesOf(file);
    ctx.state.audit.entities = entities;
    ctx.state.audit.patients = patients;
    ctx.state.audit.entitiesByPatient = byPatient;
  }
  if (listed.key === undefined) await sendFile(ctx, file);
  else if (o.bucket === undefined)
    throw notFound(`${name} is in a bucket that is no longer configured`);
  else await sendObject(ctx, o.bucket, listed.key);
}

export function bulkRoutes(o: BulkRoutesOptions): GatewayMiddleware {
  return async function bulkData(ctx, next) {
    const path = ctx.state.fhirPath;
    const target = exportTarget(path);
    if (target !== undefined) return kickoffExport(ctx, o, target);
    if (path === '$import') return kickoffImport(ctx, o);
    const op = /^_operations\/(export|import)\/([^/]+)$/.exec(path);
    if (op?.[1] !== undefined && op[2] !== undefined) return status(ctx, o, op[1], op[2]);
    const file = /^_bulk-files\/([^/]+)\/([^/]+)$/.exec(path);
    if (file?.[1] !== undefined && file[2] !== undefined) return download(ctx, o, file[1], file[2]);
    await next();
  };
}

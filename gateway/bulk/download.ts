import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { badGateway, FhirError, isFhirError, issue, notFound } from '../../store/index.js';
import type { GatewayContext } from '../state.js';
import type { Bucket } from './bucket.js';

/**
 * Serves one job file (in the job's folder or the export bucket) as `application/fhir+ndjson` with
 * single-range support (RFC 9110 §14): `bytes=a-b`, `bytes=a-`, `bytes=-n`; an unsatisfiable
 * range is a 416, several ranges get the whole file.
 */

function range(header: string, size: number): { start: number; end: number } | 'whole' | 'bad' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return header.includes(',') ? 'whole' : 'bad';
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'bad';
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'bad';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'bad';
  return { start, end };
}

type Opener = (range?: { start: number; end: number }) => Promise<Readable>;

export async function sendFile(ctx: GatewayContext, file: string): Promise<void> {
  const size = (await stat(file)).size;
  await send(ctx, size, (r) => Promise.resolve(createReadStream(file, r ?? {})));
}

export async function sendObject(ctx: GatewayContext, bucket: Bucket, key: string): Promise<void> {
  try {
    const size = await bucket.size(key);
    if (size === undefined) throw notFound(`the file is no longer in the bucket`);
    await send(ctx, size, (r) => bucket.read(key, r));
  } catch (err) {
    if (isFhirError(err)) throw err;
    throw badGateway(`the export bucket could not be read: ${(err as Error).name}`);
  }
}

async function send(ctx: GatewayContext, size: number, open: Opener): Promise<void> {
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/fhir+ndjson';
  const header = ctx.get('range');
  const r = header === '' ? 'whole' : range(header, size);
  if (r === 'bad') {
    throw new FhirError(416, [issue('error', 'invalid', `range ${header} cannot be satisfied`)], {
      'content-range': `bytes */${size}`,
    });
  }
  if (r === 'whole') {
    ctx.status = 200;
    ctx.length = size;
    ctx.body = size === 0 ? '' : await open();
    return;
  }
  ctx.status = 206;
  ctx.set('Content-Range', `bytes ${r.start}-${r.end}/${size}`);
  ctx.length = r.end - r.start + 1;
  ctx.body = await open({ start: r.start, end: r.end });
}

/**
 * The resources in an export file, their patients, and which resources are each patient's, from
 * the file's `.entities` companion (one `Type/id[/_history/v]\tpatient,patient` line per resource).
 */
export async function entitiesOf(file: string): Promise<{
  entities: string[];
  patients: string[];
  byPatient: Map<string, string[]>;
}> {
  let text: string;
  try {
    text = await readFile(`${file}.entities`, 'utf8');
  } catch {
    return { entities: [], patients: [], byPatient: new Map() };
  }
  const entities: string[] = [];
  const byPatient = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [entity = '', ps = ''] = line.split('\t');
    entities.push(entity);
    for (const p of ps.split(',')) {
      if (p === '') continue;
      const own = byPatient.get(p);
      if (own === undefined) byPatient.set(p, [entity]);
      else own.push(entity);
    }
  }
  return { entities, patients: [...byPatient.keys()], byPatient };
}

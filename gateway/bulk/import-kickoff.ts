import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest, isResourceType, notSupported } from '../../store/index.js';
import { bucketKeyOf, type Bucket } from './bucket.js';
import type { ImportInput, ImportParams } from './job.js';
import { parametersBody } from './kickoff-params.js';

/**
 * The `$import` body in Azure's shape: a Parameters resource with `inputFormat`
 * (application/fhir+ndjson), `mode` (InitialLoad | IncrementalLoad) and `input` parts holding
 * `type` and `url`. Input URLs are `file:` URLs or paths of NDJSON files below IMPORT_DIR, or
 * `s3://<bucket>/<key>` objects of the configured export bucket.
 */

const MAX_INPUTS = 10_000;

function resolveInput(
  url: string,
  importDir: string | undefined,
  bucket: Bucket | undefined,
): { path: string } | { key: string } {
  if (url.startsWith('s3://')) {
    const key = bucket === undefined ? undefined : bucketKeyOf(url, bucket);
    if (key === undefined)
      throw badRequest(`input ${url} is not in the configured bucket`, ['input']);
    return { key };
  }
  if (importDir === undefined)
    throw badRequest(`input ${url}: file inputs need IMPORT_DIR (only s3:// inputs are allowed)`, [
      'input',
    ]);
  let file: string;
  try {
    file = url.startsWith('file:') ? fileURLToPath(url) : path.resolve(importDir, url);
  } catch {
    throw badRequest(`input url ${url} is not a file URL or path`);
  }
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw badRequest(`input ${url} does not exist`);
  }
  const root = realpathSync(importDir);
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) {
    throw badRequest(`input ${url} is outside the import directory`);
  }
  return { path: real };
}

export function importParams(
  body: Buffer | undefined,
  importDir: string | undefined,
  writableTypes: string[],
  bucket?: Bucket,
): ImportParams {
  if (importDir === undefined && bucket === undefined)
    throw notSupported('$import is disabled: neither IMPORT_DIR nor EXPORT_S3_BUCKET is set');
  let mode: ImportParams['mode'] = 'IncrementalLoad';
  let format: string | undefined;
  const inputs: ImportInput[] = [];
  for (const p of parametersBody(body)) {
    if (p.name === 'inputFormat')
      format =
        typeof p.valueString === 'string'
          ? p.valueString
          : typeof p.valueCode === 'string'
            ? p.valueCode
            : '';
    else if (p.name === 'mode') {
      const m = p.valueString ?? p.valueCode;
      if (m !== 'InitialLoad' && m !== 'IncrementalLoad')
        throw badRequest('mode must be InitialLoad or IncrementalLoad', ['mode']);
      mode = m;
    } else if (p.name === 'input') {
      let type: string | undefined;
      let url: string | undefined;
      for (const part of p.part ?? []) {
        const v = part.valueString ?? part.valueUri ?? part.valueUrl ?? part.valueCode;
        if (part.name === 'type' && typeof v === 'string') type = v;
        if (part.name === 'url' && typeof v === 'string') url = v;
      }
      if (url === undefined) throw badRequest('every input needs a url', ['input']);
      if (type !== undefined && !isResourceType(type))
        throw badRequest(`input type ${type} is unknown`, ['input']);
      inputs.push({ type, url, ...resolveInput(url, importDir, bucket) });
    } else if (p.name !== 'storageDetail' && p.name !== 'allowNegativeVersions') {
      throw notSupported(`$import does not support ${String(p.name)}`);
    }
  }
  if (
    format !== undefined &&
    format !== 'application/fhir+ndjson' &&
    format !== 'application/ndjson'
  ) {
    throw badRequest(`inputFormat ${format} is not supported (application/fhir+ndjson is)`, [
      'inputFormat',
    ]);
  }
  if (inputs.length === 0) throw badRequest('$import needs at least one input', ['input']);
  if (inputs.length > MAX_INPUTS)
    throw badRequest(`at most ${MAX_INPUTS} inputs per job`, ['input']);
  return { mode, inputs, writableTypes };
}

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { open, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { outcome, issue, type LineResult, type OutcomeIssue } from '../../store/index.js';
import type { Bucket } from './bucket.js';
import type { ImportInput, ImportJob } from './job.js';
import type { BulkSource } from './source.js';

/**
 * Runs (or resumes) an import job: each input NDJSON file is read line by line and sent to the
 * store in bounded batches; failures become OperationOutcome lines in `errors.ndjson`. The cursor
 * (input, next line, counts, error-file length) is saved after every batch, so a restarted job
 * continues with the next batch (a re-sent batch is harmless: versioned writes are idempotent).
 */

export interface ImportRunOptions {
  dir: string;
  source: BulkSource;
  /** Largest batch body (stays below MAX_BODY_BYTES). */
  maxBatchBytes: number;
  save(job: ImportJob): Promise<void>;
  signal: AbortSignal;
  /** Where `s3://` inputs are read from. */
  bucket?: Bucket | undefined;
}

export const ERRORS_FILE = 'errors.ndjson';
const MAX_LINES = 500;

function typeOf(line: string): string | undefined {
  const m = /"resourceType"\s*:\s*"([A-Za-z]+)"/.exec(line);
  return m?.[1];
}

async function openInput(input: ImportInput, bucket: Bucket | undefined): Promise<Readable> {
  if (input.key !== undefined) {
    if (bucket === undefined) throw new Error(`${input.url}: no export bucket is configured`);
    return bucket.read(input.key);
  }
  if (input.path === undefined) throw new Error(`${input.url}: no file`);
  return createReadStream(input.path);
}

function failure(where: string, issues: OutcomeIssue[]): string {
  const oo = outcome(
    issues.map((i) => ({ ...i, diagnostics: `${where}: ${i.diagnostics ?? i.code}` })),
  );
  return `${JSON.stringify(oo)}\n`;
}

export async function runImport(job: ImportJob, o: ImportRunOptions): Promise<void> {
  const c = job.cursor;
  const errorsPath = path.join(o.dir, ERRORS_FILE);
  const errors: FileHandle = await open(errorsPath, 'a');
  await truncate(errorsPath, c.errorBytes);
  const writable = new Set(job.params.writableTypes);
  try {
    while (c.inputIndex < job.params.inputs.length) {
      const input = job.params.inputs[c.inputIndex];
      if (input === undefined) break;
      const where = (n: number) => `${input.url} line ${n}`;
      let batch: { n: number; text: string }[] = [];
      let bytes = 0;
      const send = async () => {
        let out = '';
        const lines: { n: number; text: string }[] = [];
        for (const l of batch) {
          const type = typeOf(l.text);
          if (input.type !== undefined && type !== undefined && type !== input.type) {
            out += failure(where(l.n), [
              issue(
                'error',
                'invalid',
                `resourceType ${type} is not the input's type ${input.type}`,
              ),
            ]);
          } else if (type !== undefined && !writable.has('*') && !writable.has(type)) {
            out += failure(where(l.n), [
              issue('error', 'forbidden', `the token's scopes do not allow writing ${type}`),
            ]);
          } else lines.push(l);
        }
        const results: LineResult[] =
          lines.length === 0
            ? []
            : await o.source.importBatch(
                lines.map((l) => l.text).join('\n') + '\n',
                job.params.mode,
                o.signal,
              );
        for (const r of results) {
          const l = lines[r.line];
          if (l === undefined) continue;
          if (r.outcome === 'error') out += failure(where(l.n), r.issues ?? []);
          else if (r.outcome !== 'empty') {
            const key = `${c.inputIndex}|${r.type ?? input.type ?? ''}`;
            c.counts[key] = (c.counts[key] ?? 0) + 1;
          }
        }
        if (out !== '') {
          c.errors += out.split('\n').length - 1;
          await errors.write(out);
          c.errorBytes += Buffer.byteLength(out);
          await errors.datasync();
        }
        c.line = (batch.at(-1)?.n ?? c.line) + 1;
        batch = [];
        bytes = 0;
        await o.save(job);
      };
      const lines = createInterface({
        input: await openInput(input, o.bucket),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      let n = 0;
      for await (const text of lines) {
        n++;
        if (n < c.line || text.trim() === '') continue;
        const size = Buffer.byteLength(text) + 1;
        if (batch.length > 0 && (batch.length >= MAX_LINES || bytes + size > o.maxBatchBytes)) {
          await send();
        }
        batch.push({ n, text });
        bytes += size;
        o.signal.throwIfAborted();
      }
      if (batch.length > 0) await send();
      c.inputIndex++;
      c.line = 1;
      await o.save(job);
    }
    if (c.errors > 0)
      job.error = [{ type: 'OperationOutcome', file: ERRORS_FILE, count: c.errors }];
  } finally {
    await errors.close();
  }
}

import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { patientCompartments, type ExportQuery } from '../../store/index.js';
import type { ExportJob } from './job.js';
import type { BulkSource } from './source.js';

/**
 * Runs (or resumes) an export job: each type is read from the store in rid order and written to
 * `<Type>-<part>.ndjson` files of at most `maxPerFile` resources, next to an `.entities` file
 * naming each resource (`Type/id/_history/v<TAB>patient,…`) for the download audit. Progress is
 * checkpointed with every flushed batch, so a restarted job truncates the open part to the last
 * checkpoint and continues from the store cursor saved with it.
 */

export interface ExportRunOptions {
  dir: string;
  source: BulkSource;
  maxPerFile: number;
  /** Resources per second (0: unlimited). */
  maxRate: number;
  /** Persists the job (called at every checkpoint). */
  save(job: ExportJob): Promise<void>;
  signal: AbortSignal;
  /** Write the `.entities` companions (default true; the CLI has no download audit). */
  entities?: boolean;
}

const FLUSH_BYTES = 256 * 1024;

export function partName(type: string, part: number): string {
  return `${type}-${part}.ndjson`;
}

function queryFor(job: ExportJob, type: string): ExportQuery {
  const p = job.params;
  const q: ExportQuery = { type, afterRid: job.cursor.afterRid, until: p.until };
  if (p.since !== undefined) q.since = p.since;
  if (p.level !== 'system') q.patients = p.patients ?? [];
  const tf = p.typeFilters[type];
  if (tf !== undefined) q.typeFilters = tf;
  const sf = p.scopeFilters[type];
  if (sf !== undefined) q.scopeFilters = sf;
  const el = p.elements[type];
  if (el !== undefined) q.elements = el;
  return q;
}

function entityOf(json: string): string {
  const r = JSON.parse(json) as {
    resourceType?: string;
    id?: string;
    meta?: { versionId?: string };
  };
  const base = `${r.resourceType ?? ''}/${r.id ?? ''}`;
  const entity = r.meta?.versionId === undefined ? base : `${base}/_history/${r.meta.versionId}`;
  return `${entity}\t${patientCompartments(r).join(',')}\n`;
}

async function removeEmpty(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.entities`, { force: true });
}

class PartWriter {
  private data: FileHandle | undefined;
  private entities: FileHandle | undefined;
  private buf: string[] = [];
  private ents: string[] = [];
  private pending = 0;

  constructor(
    private readonly dir: string,
    private readonly withEntities: boolean,
  ) {}

  async open(type: string, part: number, bytes: number): Promise<void> {
    const file = path.join(this.dir, partName(type, part));
    const ents = `${file}.entities`;
    this.data = await open(file, 'a');
    await truncate(file, bytes);
    if (!this.withEntities) return;
    this.entities = await open(ents, 'a');
    if (bytes === 0) await truncate(ents, 0);
  }

  add(json: string): number {
    this.buf.push(json, '\n');
    if (this.withEntities) this.ents.push(entityOf(json));
    const n = Buffer.byteLength(json) + 1;
    this.pending += n;
    return n;
  }

  get full(): boolean {
    return this.pending >= FLUSH_BYTES;
  }

  async flush(): Promise<void> {
    if (this.data === undefined) return;
    if (this.buf.length > 0) await this.data.write(this.buf.join(''));
    if (this.ents.length > 0) await this.entities?.write(this.ents.join(''));
    await this.data.datasync();
    this.buf = [];
    this.ents = [];
    this.pending = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.data?.close();
    await this.entities?.close();
    this.data = undefined;
    this.entities = undefined;
  }
}

export async function runExport(job: ExportJob, o: ExportRunOptions): Promise<void> {
  const started = Date.now();
  let readThisRun = 0;
  const writer = new PartWriter(o.dir, o.entities ?? true);
  const c = job.cursor;
  const p = job.params;
  if (p.level === 'group' && (p.patients ?? []).length === 0) c.typeIndex = p.types.length;
  try {
    while (c.typeIndex < job.params.types.length) {
      const type = job.params.types[c.typeIndex] ?? '';
      await writer.open(type, c.part, c.partBytes);
      const checkpoint = async () => {
        await writer.flush();
        await o.save(job);
      };
      const finishPart = async () => {
        await writer.close();
        const file = partName(type, c.part);
        if (c.partCount > 0) job.output.push({ type, file, count: c.partCount });
        else await removeEmpty(path.join(o.dir, file));
        c.part++;
        c.partCount = 0;
        c.partBytes = 0;
      };
      for await (const line of o.source.exportLines(queryFor(job, type), o.signal)) {
        const space = line.indexOf(' ');
        const rid = Number(space < 0 ? line : line.slice(0, space));
        if (space >= 0) {
          const json = line.slice(space + 1);
          c.partBytes += writer.add(json);
          c.partCount++;
          job.resources++;
          readThisRun++;
        }
        c.afterRid = rid;
        if (c.partCount >= o.maxPerFile) {
          await finishPart();
          await o.save(job);
          await writer.open(type, c.part, 0);
        } else if (writer.full) {
          await checkpoint();
        }
        if (o.maxRate > 0) {
          const ahead = (readThisRun / o.maxRate) * 1000 - (Date.now() - started);
          if (ahead > 0) await sleep(ahead, undefined, { signal: o.signal });
        }
        o.signal.throwIfAborted();
      }
      await finishPart();
      c.typeIndex++;
      c.afterRid = 0;
      c.part = 1;
      await o.save(job);
    }
  } finally {
    await writer.close().catch(() => undefined);
  }
}

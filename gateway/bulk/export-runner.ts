import { open, rm, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issue, outcome, patientCompartments, type ExportQuery } from '../../store/index.js';
import { ASSOCIATED_FILE, associatedFilter, provenanceQuery } from './associated-provenance.js';
import type { ExportJob } from './job.js';
import { fileTarget, type PartSink, type PartTarget } from './part-target.js';
import type { BulkSource } from './source.js';

/**
 * Runs (or resumes) an export job: each type is read from the store in rid order and written to
 * `<Type>-<part>.ndjson` parts of at most `maxPerFile` resources (files in the job's folder, or
 * objects in a bucket), next to a local `.entities` file naming each resource
 * (`Type/id/_history/v<TAB>patient,…`) for the download audit. Progress is checkpointed with every
 * flushed batch; a restarted job continues from the saved store cursor (a file part truncated to
 * the checkpoint, a bucket part redone from its start). `includeAssociatedData` adds a last step.
 */

export interface ExportRunOptions {
  /** The job's folder: `.entities` companions and the warnings file. */
  dir: string;
  /** Where parts go (default: files in `dir`). */
  target?: PartTarget;
  source: BulkSource;
  maxPerFile: number;
  /** Resources per second (0: unlimited). */
  maxRate: number;
  /** Persists the job (called at every checkpoint). */
  save(job: ExportJob): Promise<void>;
  signal: AbortSignal;
  /** Write the `.entities` companions (default true; the CLI has no download audit). */
  entities?: boolean;
  /** Called as resources are written (the CLI's progress bar). */
  onProgress?: (job: ExportJob) => void;
}

export const WARNINGS_FILE = 'warnings.ndjson';
const FLUSH_BYTES = 256 * 1024;

export function partName(type: string, part: number): string {
  return `${type}-${part}.ndjson`;
}

interface Step {
  type: string;
  /** File name stem of the step's parts. */
  stem: string;
  query(afterRid: number): ExportQuery;
  keep?: (json: string, rid: number) => boolean;
}

function queryFor(job: ExportJob, type: string, afterRid: number): ExportQuery {
  const p = job.params;
  const q: ExportQuery = { type, afterRid, until: p.until };
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

function stepCount(job: ExportJob): number {
  return job.params.types.length + (job.params.associated === undefined ? 0 : 1);
}

async function stepAt(job: ExportJob, i: number, o: ExportRunOptions): Promise<Step> {
  const type = job.params.types[i];
  if (type !== undefined) return { type, stem: type, query: (a) => queryFor(job, type, a) };
  const keep = await associatedFilter(job, o.dir, o.source, o.signal);
  return { type: 'Provenance', stem: ASSOCIATED_FILE, query: (a) => provenanceQuery(job, a), keep };
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

class PartWriter {
  private sink: PartSink | undefined;
  private entities: FileHandle | undefined;
  private buf: string[] = [];
  private ents: string[] = [];
  private pending = 0;
  /** Bytes of the open part's `.entities` companion, what is still buffered included. */
  entityBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly target: PartTarget,
    private readonly withEntities: boolean,
  ) {}

  /**
   * Opens a part keeping its first `bytes`, and its `.entities` companion keeping `entityBytes`
   * (what the checkpoint recorded; unknown for jobs checkpointed by older versions: kept whole).
   */
  async open(file: string, bytes: number, entityBytes?: number): Promise<void> {
    this.sink = await this.target.open(file, bytes);
    this.entityBytes = 0;
    if (!this.withEntities) return;
    const ents = path.join(this.dir, `${file}.entities`);
    this.entities = await open(ents, 'a');
    const size = (await this.entities.stat()).size;
    this.entityBytes = bytes === 0 ? 0 : Math.min(size, entityBytes ?? size);
    if (this.entityBytes < size) await truncate(ents, this.entityBytes);
  }

  add(json: string): number {
    this.buf.push(json, '\n');
    if (this.withEntities) {
      const entity = entityOf(json);
      this.ents.push(entity);
      this.entityBytes += Buffer.byteLength(entity);
    }
    const n = Buffer.byteLength(json) + 1;
    this.pending += n;
    return n;
  }

  get full(): boolean {
    return this.pending >= FLUSH_BYTES;
  }

  async flush(): Promise<void> {
    if (this.sink === undefined) return;
    if (this.buf.length > 0) await this.sink.write(this.buf.join(''));
    if (this.ents.length > 0) await this.entities?.write(this.ents.join(''));
    await this.sink.checkpoint();
    this.buf = [];
    this.ents = [];
    this.pending = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.sink?.close();
    await this.entities?.close();
    this.sink = undefined;
    this.entities = undefined;
  }

  /** Stops after a failure or cancel: an upload in progress is abandoned. */
  async abort(): Promise<void> {
    await this.sink?.abort();
    await this.entities?.close();
    this.sink = undefined;
    this.entities = undefined;
  }
}

/** A bucket part cannot continue mid-way: go back to where it began. */
function rewindPart(job: ExportJob): void {
  const c = job.cursor;
  if (c.partBytes === 0) return;
  job.resources -= c.partCount;
  c.afterRid = c.partStartRid ?? 0;
  c.partCount = 0;
  c.partBytes = 0;
  c.entityBytes = 0;
}

async function writeWarnings(job: ExportJob, dir: string): Promise<void> {
  const warnings = job.params.warnings ?? [];
  if (warnings.length === 0) return;
  const lines = warnings.map((w) =>
    JSON.stringify(outcome([issue('warning', 'informational', w)])),
  );
  await writeFile(path.join(dir, WARNINGS_FILE), `${lines.join('\n')}\n`);
  job.error = [{ type: 'OperationOutcome', file: WARNINGS_FILE, count: lines.length }];
}

export async function runExport(job: ExportJob, o: ExportRunOptions): Promise<void> {
  const started = Date.now();
  let readThisRun = 0;
  const target = o.target ?? fileTarget(o.dir);
  const writer = new PartWriter(o.dir, target, o.entities ?? true);
  const c = job.cursor;
  const p = job.params;
  if (!target.resumesMidPart) rewindPart(job);
  if (p.level === 'group' && (p.patients ?? []).length === 0) c.typeIndex = p.types.length;
  let failed = true;
  try {
    while (c.typeIndex < stepCount(job)) {
      const step = await stepAt(job, c.typeIndex, o);
      const file = () => partName(step.stem, c.part);
      if (c.partBytes === 0) c.partStartRid = c.afterRid;
      await writer.open(file(), c.partBytes, c.entityBytes);
      const finishPart = async () => {
        await writer.close();
        if (c.partCount > 0) {
          const key = target.keyOf(file());
          job.output.push({
            type: step.type,
            file: file(),
            count: c.partCount,
            ...(key === undefined ? {} : { key }),
          });
        } else {
          await target.remove(file());
          await rm(path.join(o.dir, `${file()}.entities`), { force: true });
        }
        c.part++;
        c.partCount = 0;
        c.partBytes = 0;
        c.entityBytes = 0;
        c.partStartRid = c.afterRid;
      };
      for await (const line of o.source.exportLines(step.query(c.afterRid), o.signal)) {
        const space = line.indexOf(' ');
        const rid = Number(space < 0 ? line : line.slice(0, space));
        if (space >= 0) {
          const json = line.slice(space + 1);
          if (step.keep === undefined || step.keep(json, rid)) {
            c.partBytes += writer.add(json);
            c.entityBytes = writer.entityBytes;
            c.partCount++;
            job.resources++;
            readThisRun++;
          }
        }
        c.afterRid = rid;
        if (c.partCount >= o.maxPerFile) {
          await finishPart();
          await o.save(job);
          await writer.open(file(), 0);
        } else if (writer.full) {
          await writer.flush();
          await o.save(job);
          o.onProgress?.(job);
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
      c.partStartRid = 0;
      c.part = 1;
      await o.save(job);
      o.onProgress?.(job);
    }
    await writeWarnings(job, o.dir);
    failed = false;
  } finally {
    if (failed) await writer.abort().catch(() => undefined);
  }
}

import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Job } from './job.js';

/**
 * Jobs on disk: one folder per job below `DATA_DIR/bulk`, holding `job.json` (replaced atomically)
 * and the job's files. Survives restarts and is shared by every process of one DATA_DIR: nothing
 * is kept only in memory. `job.json` has one writer at a time (the process that creates the job,
 * then the one running it); a cancel from any process is a separate marker file, never a rewrite.
 */
export class JobStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'bulk');
  }

  /** Creates the folder holding jobs and the bulk locks. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** A file of a job (the name is checked: no path tricks). */
  file(id: string, name: string): string | undefined {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !isJobId(id)) return undefined;
    return path.join(this.dir(id), name);
  }

  /** Stores a new job; fails (EEXIST) rather than overwrite a job with the same id. */
  async create(job: Job): Promise<void> {
    await this.init();
    await mkdir(this.dir(job.id), { mode: 0o700 });
    await this.save(job);
  }

  /** Replaces the state of an existing job (fails when its folder was removed). */
  async save(job: Job): Promise<void> {
    const dir = this.dir(job.id);
    const tmp = path.join(dir, `job.json.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(job));
    await rename(tmp, path.join(dir, 'job.json'));
  }

  async load(id: string): Promise<Job | undefined> {
    if (!isJobId(id)) return undefined;
    try {
      return JSON.parse(await readFile(path.join(this.dir(id), 'job.json'), 'utf8')) as Job;
    } catch {
      return undefined;
    }
  }

  /** Ids of the job folders. */
  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter(isJobId);
    } catch {
      return [];
    }
  }

  async all(): Promise<Job[]> {
    const jobs = await Promise.all((await this.ids()).map((n) => this.load(n)));
    return jobs.filter((j): j is Job => j !== undefined);
  }

  /** Records that the job's client cancelled it (whichever process runs it stops it). */
  async markCancelled(id: string): Promise<void> {
    try {
      await writeFile(path.join(this.dir(id), CANCEL_MARKER), new Date().toISOString());
    } catch (err) {
      // The job's folder is gone already: nothing left to cancel.
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }

  /** True when the job was cancelled (a marker, or the state of an older version). */
  async isCancelled(job: Job): Promise<boolean> {
    return job.status === 'cancelled' || (await this.hasCancelMarker(job.id));
  }

  /** True when a cancel was recorded for the job (a file check; the state is not read). */
  async hasCancelMarker(id: string): Promise<boolean> {
    try {
      await stat(path.join(this.dir(id), CANCEL_MARKER));
      return true;
    } catch {
      return false;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The cancel marker in a job's folder (a dot name: never a downloadable file). */
const CANCEL_MARKER = '.cancelled';

function isJobId(id: string): boolean {
  return /^[a-f0-9-]{36}$/.test(id);
}

import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Job } from './job.js';

/**
 * Jobs on disk: one folder per job below `DATA_DIR/bulk`, holding `job.json` (replaced atomically)
 * and the job's files. Survives restarts; nothing is kept only in memory.
 */
export class JobStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'bulk');
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** A file of a job (the name is checked: no path tricks). */
  file(id: string, name: string): string | undefined {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !/^[a-f0-9-]{36}$/.test(id)) return undefined;
    return path.join(this.dir(id), name);
  }

  async save(job: Job): Promise<void> {
    const dir = this.dir(job.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, 'job.json.tmp');
    await writeFile(tmp, JSON.stringify(job));
    await rename(tmp, path.join(dir, 'job.json'));
  }

  async load(id: string): Promise<Job | undefined> {
    if (!/^[a-f0-9-]{36}$/.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(path.join(this.dir(id), 'job.json'), 'utf8')) as Job;
    } catch {
      return undefined;
    }
  }

  async all(): Promise<Job[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const jobs = await Promise.all(names.map((n) => this.load(n)));
    return jobs.filter((j): j is Job => j !== undefined);
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }
}

import { readFileSync, readdirSync } from 'node:fs';

export interface TreeRss {
  totalBytes: number;
  /** Each process of the tree: its command line (shortened) and RSS. */
  processes: { pid: number; command: string; rssBytes: number }[];
}

/**
 * Proportional set size (bytes): the process's private pages plus its share of pages it shares
 * with others (node's code, mapped once for all Hearth processes, counts once in a sum of PSS and
 * once per process in a sum of RSS). 0 when the kernel does not say.
 */
export function pssOf(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return argv
      .filter((a) => !a.startsWith('-') && a !== 'tsx')
      .slice(0, 2)
      .map((a) => a.split('/').slice(-2).join('/'))
      .join(' ');
  } catch {
    return '?';
  }
}

/** Resident memory (bytes) of a process and all its descendants, read from /proc. */
export function treeRss(rootPid: number): TreeRss {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      const pid = Number(name);
      rss.set(pid, kb * 1024);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process exited while we read
    }
  }
  const processes: TreeRss['processes'] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop() ?? 0;
    const bytes = rss.get(pid);
    if (bytes !== undefined) processes.push({ pid, command: commandOf(pid), rssBytes: bytes });
    stack.push(...(children.get(pid) ?? []));
  }
  return { totalBytes: processes.reduce((n, p) => n + p.rssBytes, 0), processes };
}

/** Samples the summed RSS (and PSS) of a process tree every `everyMs` and keeps the peaks. */
export class PeakRss {
  peakBytes = 0;
  /** The tree at the moment of the peak. */
  atPeak: TreeRss['processes'] = [];
  /** What the run was doing at the moment of the RSS peak (set by the caller as it goes). */
  phase = '';
  atPeakPhase = '';
  /** The peak of the summed PSS (sampled with the RSS; its own peak, not the PSS at the RSS peak). */
  peakPssBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rootPid: () => number | undefined,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => {
      this.sample();
    }, everyMs);
    this.timer.unref();
  }

  sample(): void {
    const pid = this.rootPid();
    if (pid === undefined) return;
    const now = treeRss(pid);
    if (now.totalBytes > this.peakBytes) {
      this.peakBytes = now.totalBytes;
      this.atPeak = now.processes;
      this.atPeakPhase = this.phase;
    }
    const pss = now.processes.reduce((n, p) => n + pssOf(p.pid), 0);
    if (pss > this.peakPssBytes) this.peakPssBytes = pss;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux's usual builds). */
const TICKS_PER_SECOND = 100;

/** The CPU a set of processes has used so far, from /proc (µs of user and system time). */
export interface CpuSample {
  /** Summed over the processes and all their threads. */
  totalUs: number;
  /** Per thread, keyed `pid/tid`. */
  threads: Map<string, number>;
}

/** utime + stime (µs) of a `stat` line; its command may hold spaces and parentheses. */
function statCpuUs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

/** The processes of a tree (pids), root first. */
function treePids(rootPid: number): number[] {
  return treeRss(rootPid).processes.map((p) => p.pid);
}

/** CPU used so far by the given processes, per thread. */
export function cpuOf(pids: readonly number[]): CpuSample {
  const threads = new Map<string, number>();
  let totalUs = 0;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited
    }
    for (const tid of tids) {
      try {
        const us = statCpuUs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        threads.set(`${pid}/${tid}`, us);
        totalUs += us;
      } catch {
        // the thread exited while we read
      }
    }
  }
  return { totalUs, threads };
}

/** CPU used so far by a process and its descendants. */
export function treeCpu(rootPid: number): CpuSample {
  return cpuOf(treePids(rootPid));
}

/** The PostgreSQL server's processes on this machine (`postgres` by command name). */
export function postgresPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') out.push(Number(name));
    } catch {
      // exited
    }
  }
  return out;
}

/** What `after` used beyond `before`: in all, and on the thread that used the most. */
export function cpuBetween(
  before: CpuSample,
  after: CpuSample,
): { totalUs: number; busiestThreadUs: number } {
  let totalUs = 0;
  let busiestThreadUs = 0;
  // threads that exited in between are left out; threads started in between count whole
  for (const [key, us] of after.threads) {
    const used = us - (before.threads.get(key) ?? 0);
    totalUs += used;
    busiestThreadUs = Math.max(busiestThreadUs, used);
  }
  return { totalUs, busiestThreadUs };
}

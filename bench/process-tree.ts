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

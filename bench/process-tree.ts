import { readFileSync, readdirSync } from 'node:fs';

export interface TreeRss {
  totalBytes: number;
  /** Each process of the tree: its command line (shortened) and RSS. */
  processes: { pid: number; command: string; rssBytes: number }[];
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

/** Samples the summed RSS of a process tree every `everyMs` and keeps the peak. */
export class PeakRss {
  peakBytes = 0;
  /** The tree at the moment of the peak. */
  atPeak: TreeRss['processes'] = [];
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
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

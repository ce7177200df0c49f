import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { wantsJson } from './output.js';

/**
 * One progress bar for long CLI commands (`hearth import`, `hearth export`), drawn on stderr only
 * when a person is watching: stdout and stderr are terminals and `--json` was not given.
 * Otherwise every method does nothing, so scripts and pipes see clean output.
 */
export interface Progress {
  /** Moves the bar to `value` (and optionally a new total). */
  update(value: number, total?: number): void;
  /** Prints a line above the bar (e.g. a warning) without tearing it. */
  note(line: string): void;
  stop(): void;
}

export function progressShown(cmd: Command): boolean {
  return process.stdout.isTTY && process.stderr.isTTY && !wantsJson(cmd);
}

export function startProgress(cmd: Command, total: number, unit: string): Progress {
  if (!progressShown(cmd)) {
    return {
      update: () => undefined,
      note: (line) => process.stderr.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    format: `{bar} {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
    hideCursor: true,
  });
  bar.start(total, 0);
  let value = 0;
  return {
    update(v, t) {
      value = v;
      if (t !== undefined) bar.setTotal(t);
      bar.update(v);
    },
    note(line) {
      bar.stop();
      process.stderr.write(`${line}\n`);
      bar.start(bar.getTotal(), value);
    },
    stop: () => {
      bar.stop();
    },
  };
}

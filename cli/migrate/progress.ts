import { SingleBar } from 'cli-progress';
import type { MigrateProgress } from './migrator.js';

export interface ProgressDisplay extends MigrateProgress {
  stop(): void;
}

/** A progress bar per phase on stderr when it is a terminal (and not `--json`), else silent. */
export function progressDisplay(enabled: boolean): ProgressDisplay {
  let bar: SingleBar | undefined;
  let value = 0;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    phase(name, total) {
      stop();
      if (!enabled) return;
      value = 0;
      bar = new SingleBar({
        stream: process.stderr,
        format: `${name.padEnd(18)} [{bar}] {percentage}% | {value}/{total}`,
      });
      bar.start(total, 0);
    },
    advance(units) {
      value += units;
      bar?.update(value);
    },
    stop,
  };
}

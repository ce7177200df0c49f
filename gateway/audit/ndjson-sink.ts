import { closeSync, openSync, writeSync } from 'node:fs';

/** Streams committed audit records as NDJSON to a file (appended) or, for `-`, to stdout. */
export interface NdjsonSink {
  write(lines: string[]): void;
  close(): void;
}

export function openNdjsonSink(target: string): NdjsonSink {
  if (target === '-') {
    return {
      write: (lines) => {
        process.stdout.write(`${lines.join('\n')}\n`);
      },
      close: () => undefined,
    };
  }
  const fd = openSync(target, 'a', 0o600);
  return {
    write: (lines) => {
      writeSync(fd, `${lines.join('\n')}\n`);
    },
    close: () => {
      closeSync(fd);
    },
  };
}

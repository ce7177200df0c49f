import type { Command } from 'commander';

/** Thrown by a command to fail with a one-line reason on stderr and a non-zero exit. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Whether `--json` was given anywhere on the command line. */
export function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<{ json?: boolean }>().json === true;
}

/**
 * Prints a command's result: JSON on stdout with `--json`, otherwise a human-readable form
 * (`human` or, when absent, indented JSON).
 */
export function print(cmd: Command, result: unknown, human?: string): void {
  if (wantsJson(cmd) || human === undefined) {
    process.stdout.write(`${JSON.stringify(result, null, wantsJson(cmd) ? undefined : 2)}\n`);
  } else {
    process.stdout.write(`${human}\n`);
  }
}

/** Reads all of stdin (for `--password-stdin`), without the trailing newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

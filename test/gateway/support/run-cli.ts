import { Command } from 'commander';
import { registerGatewayCommands } from '../../../gateway/index.js';
import { testConfig } from './temp.js';

/** Runs gateway CLI commands in-process (same code as `hearth`), capturing stdout. */
export async function runGatewayCli(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; error?: Error }> {
  const program = new Command('hearth').option('--json').exitOverride();
  registerGatewayCommands(program, () => testConfig(dataDir, env));
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  try {
    await program.parseAsync(['node', 'hearth', ...args]);
    return { stdout };
  } catch (err) {
    return { stdout, error: err as Error };
  } finally {
    process.stdout.write = write;
  }
}

/** The real CLI, run as a user runs it: `node bin/fmguard.js <args>` in its own OS process. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const BIN = fileURLToPath(new URL('../../bin/fmguard.js', import.meta.url));

export interface CliResult {
  /** The exit code (1 when it has none: killed, or never started). */
  code: number;
  out: string;
  err: string;
}

export interface CliOptions {
  cwd: string;
  /** The whole environment of the process (default: this one's). */
  env?: NodeJS.ProcessEnv;
  /** Default 60 s. */
  timeout?: number;
}

/** Runs `fmguard <args>` to its end. Never rejects: a failed command is its exit code and output. */
export async function runCli(args: readonly string[], { cwd, env, timeout = 60_000 }: CliOptions): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd, timeout, ...(env && { env }) });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number | string | null; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: e.stdout, err: e.stderr };
  }
}

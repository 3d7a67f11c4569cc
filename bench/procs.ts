/**
 * Child processes of a benchmark: started, waited for until they listen, and always stopped — on
 * success, on failure, on Ctrl-C — so no server outlives the run. Each child is stopped by its own
 * pid (SIGTERM, then SIGKILL after a grace period); bench-owned children also exit on their own
 * when their stdin closes, i.e. when this process dies however it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { REPO } from './fmguard-cli.ts';

export interface Started {
  name: string;
  child: ChildProcess;
  url: string;
  /** The last lines the child printed (stdout and stderr), for error messages. */
  output(): string;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** A pattern on a stdout line whose first group is the URL; or a function that finds it once the child runs. */
  ready: RegExp | ((child: ChildProcess, line: string) => Promise<string | undefined> | string | undefined);
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

export function start(name: string, command: { command: string; args: string[] }, options: StartOptions): Promise<Started> {
  const child = spawn(command.command, command.args, { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const output = () => tail.join('\n');
  createInterface({ input: child.stderr! }).on('line', keep);
  const lines = createInterface({ input: child.stdout! });
  return new Promise<Started>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name}: ${why}\n${output()}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${options.timeoutMs ?? 30_000} ms`), options.timeoutMs ?? 30_000);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    lines.on('line', (line) => {
      keep(line);
      if (settled) return;
      const ready = options.ready;
      // A throwing `ready` fails the start (never an uncaught exception in this event handler).
      void Promise.resolve()
        .then(() => (ready instanceof RegExp ? ready.exec(line)?.[1] : ready(child, line)))
        .then(
          (url) => {
            if (!url || settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ name, child, url, output });
          },
          (error: Error) => fail(error.message),
        );
    });
  });
}

/** The TCP port a process listens on, read from /proc (for servers that do not print it). */
export function listeningPort(pid: number): number | undefined {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // the fd closed while we looked
    }
  }
  for (const table of ['tcp', 'tcp6']) {
    for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, column 9 the inode.
      if (cols[3] === '0A' && inodes.has(cols[9]!)) return parseInt(cols[1]!.split(':')[1]!, 16);
    }
  }
  return undefined;
}

export function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child)));
}

/**
 * Stop every child on the way out, whatever the way out is; on a signal, also run `cleanup` (what
 * the script's own finally would have done: temporary files, keys) before exiting.
 */
export function stopAllOnExit(cleanup: () => Promise<unknown> = async () => {}): void {
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the bench's processes\n`);
      void stopAll()
        .then(cleanup)
        .catch((error: Error) => process.stderr.write(`cleanup: ${error.message}\n`))
        .finally(() => process.exit(130));
    });
  }
}

/** Run a command to its end; its stdout (and stderr on failure). */
export function run(command: { command: string; args: string[] }, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(command.command, command.args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (part: Buffer) => (stdout += part.toString()));
  child.stderr!.on('data', (part: Buffer) => (stderr += part.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      running.delete(child);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

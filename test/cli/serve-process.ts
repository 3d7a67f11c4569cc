/** `node bin/fmguard.js serve` in its own OS process, on port 0, with a config written for the test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { BIN } from './helpers.ts';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
}

export async function startServe(dir: string, configText: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const file = join(dir, 'fmguard.yaml');
  writeFileSync(file, configText);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s; stderr: ${err}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening; stderr: ${err}`));
    });
  });
  return { url, child, stdout: () => out, stderr: () => err, exited };
}

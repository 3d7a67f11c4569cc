// Runs before `npm start` and `npm test`: on a fresh clone, install the locked dependencies first,
// so the README's two quick-start commands work as they are; with --build, then compile src/ to
// dist/ (incremental: only what changed since the last build). Prints what it does, and npm's and
// tsc's own output, instead of working in silence: npm ci says nothing for minutes while it
// downloads, so a line every few seconds tells how far it is (packages in node_modules / in the lock).
import { execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describeProgress } from './install-progress.mjs';

const root = new URL('..', import.meta.url);
const seconds = (started) => ((Date.now() - started) / 1000).toFixed(1);

const run = (what, command) => {
  console.error(`fmguard: ${what} (${command}) ...`);
  const started = Date.now();
  execSync(command, { stdio: 'inherit', cwd: root });
  console.error(`fmguard: ${what}: done in ${seconds(started)} s`);
};

const progress = () => describeProgress(root);

async function install() {
  const command = 'npm ci --no-audit --no-fund --foreground-scripts';
  console.error(`fmguard: first run: installing the locked dependencies (${command}).`);
  console.error(
    'fmguard: this installs about 600 packages (740 MB on disk: the SDKs, drivers, test and benchmark tools) and builds the SQLite addon: 1 to 3 minutes on a fast connection.',
  );
  const started = Date.now();
  const child = spawn(command, { shell: true, stdio: 'inherit', cwd: root });
  const timer = setInterval(() => console.error(`fmguard: installing dependencies: ${seconds(started)} s, ${progress()}`), 5000);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) {
    console.error(`fmguard: npm ci failed (exit ${code}) after ${seconds(started)} s`);
    process.exit(code ?? 1);
  }
  console.error(`fmguard: installing dependencies: done in ${seconds(started)} s (${progress()})`);
}

if (!existsSync(new URL('node_modules/.package-lock.json', root))) await install();
if (process.argv.includes('--build')) run('building dist/ (tsc, incremental; then the console bundle)', 'node scripts/build.mjs');

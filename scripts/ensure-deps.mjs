// Runs before `npm start` and `npm test`: on a fresh clone, install the locked dependencies first,
// so the README's two quick-start commands work as they are; with --build, then compile src/ to
// dist/ (incremental: only what changed since the last build). Prints what it does, and npm's and
// tsc's own output, instead of working in silence.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const run = (what, command) => {
  console.error(`fmguard: ${what} (${command}) ...`);
  const started = Date.now();
  execSync(command, { stdio: 'inherit', cwd: root });
  console.error(`fmguard: ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};

if (!existsSync(new URL('node_modules/.package-lock.json', root))) {
  run('installing dependencies', 'npm ci --no-audit --no-fund --foreground-scripts');
}
if (process.argv.includes('--build')) run('building dist/', 'node scripts/build.mjs');

// Runs before `npm start` and `npm test`: on a fresh clone, install the locked dependencies first,
// so the README's two quick-start commands work as they are. A no-op once node_modules is in place.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) {
  console.error('fmguard: installing dependencies (npm ci) ...');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
}

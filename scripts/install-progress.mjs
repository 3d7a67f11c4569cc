// How far `npm ci` is, for scripts/ensure-deps.mjs: the packages the lock file installs at the top of
// node_modules, and how many of them are there now. Optional packages (platform builds such as
// @esbuild/darwin-arm64, of which npm installs only the one for this machine) are not counted: with
// them the count ended at "648 of 713" although the install was complete.
import { existsSync, readFileSync } from 'node:fs';

/** `{ present, expected }` for the checkout at `root` (a file: URL ending in /). */
export function installProgress(root) {
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));
  const required = Object.entries(lock.packages ?? {}).filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.optional);
  const present = required.filter(([path]) => existsSync(new URL(`${path}/package.json`, root))).length;
  return { present, expected: required.length };
}

export function describeProgress(root) {
  const { present, expected } = installProgress(root);
  return `${present} of ${expected} packages`;
}

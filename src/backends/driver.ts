import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * A backend's driver package, loaded the moment a backend is opened (never when fmguard is
 * imported): a user of the memory store does not load better-sqlite3, ioredis or pg. All of them are
 * CommonJS, so this stays synchronous and `createGuard` can too. A driver that is not installed
 * fails with a message naming the package to install.
 */
export function loadDriver<T>(name: string, purpose: string): T {
  if (loaded.has(name)) return loaded.get(name) as T;
  let driver: T;
  try {
    driver = require(name) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((error as Error).message).includes(`'${name}'`)) throw error;
    throw new Error(`${purpose} needs the "${name}" package, which is not installed: run \`npm install ${name}\``, { cause: error });
  }
  loaded.set(name, driver);
  return driver;
}

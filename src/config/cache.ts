import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { FmguardConfig } from './resolve.ts';

/**
 * The validated config of a file, cached for the CLI's operator commands (`runs list`, `kill`, …), which
 * would otherwise spend most of their start loading yaml and zod and building the schema (issue 15).
 *
 * Exactness: a config load is a pure function of the file's text, its absolute path (relative paths
 * resolve against its folder), the values of the environment variables it reads (`${NAME}`, the audit
 * key) and the code that validates it. The cache key covers all four: the text and path, every variable
 * the successful load read (recorded through a proxy over the environment, names and values, unset
 * included), and a stamp of the code (size and mtime of every module file of `config/` and the folders it
 * imports, and the versions of zod, yaml, @pydantic/genai-prices and Node). A load reads no other file
 * (policy files are only named; they are read when a policy engine is built). Only successful loads are
 * cached: a bad config is validated in full every time, so its errors are exactly the same.
 *
 * Secrets: the resolved config holds expanded `${API_KEY}`s. The entry is AES-256-GCM encrypted under
 * a key derived from all of the above, values included, so it can be read only by someone who has the
 * file and the same environment (who could load the config anyway); the file is written 0600 under
 * `.fmguard/config-cache/` beside the config. Any failure (unwritable folder, changed stamp, corrupt or
 * foreign entry) is a miss and never an error. `FMGUARD_CONFIG_CACHE=0` turns it off.
 */
export const CONFIG_CACHE_ENV = 'FMGUARD_CONFIG_CACHE';

/** The folders whose code decides what a config load returns (`config/` and its allowed imports). */
const CODE_DIRS = ['config', 'core', 'store', 'alarms', 'breakers', 'metrics'];
const CODE_PACKAGES = ['zod', 'yaml', '@pydantic/genai-prices'];
const MAGIC = 'fmguard-config-cache/1';

let codeStampMemo: string | undefined;

function statTree(dir: string, hash: ReturnType<typeof createHash>): void {
  const names = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of names) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) statTree(path, hash);
    else if (/\.(c?js|ts|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      const s = statSync(path);
      hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
    }
  }
}

/** A package's package.json as Node finds it (`node_modules` here, then in each parent folder); read directly, not through require.resolve (which costs more than the rest of the stamp). */
function packageJson(from: string, name: string): Buffer | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      return readFileSync(join(dir, 'node_modules', name, 'package.json'));
    } catch {
      if (dirname(dir) === dir) return undefined;
    }
  }
}

/** A stamp of the code that validates a config: it changes when any of it is rebuilt, edited or upgraded. */
export function codeStamp(): string {
  if (codeStampMemo) return codeStampMemo;
  const hash = createHash('sha256').update(`${MAGIC}\0${process.version}\0`);
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  for (const dir of CODE_DIRS) statTree(join(root, dir), hash);
  for (const name of CODE_PACKAGES) hash.update(packageJson(root, name) ?? `${name} not found\n`);
  codeStampMemo = hash.digest('hex');
  return codeStampMemo;
}

/** Only plain data survives `v8.serialize` unchanged: anything else (a class instance, a function) is not cached. */
function plainData(value: unknown, seen = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (seen.has(value)) return true;
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype || proto === Object.prototype || proto === null) return Object.values(value).every((v) => plainData(v, seen));
  if (value instanceof Map) return [...value].every(([k, v]) => plainData(k, seen) && plainData(v, seen));
  if (value instanceof Set) return [...value].every((v) => plainData(v, seen));
  return proto === Date.prototype || proto === RegExp.prototype;
}

function keyOf(stamp: string, file: string, text: string, env: Array<[string, string | null]>): Buffer {
  return createHash('sha256')
    .update(JSON.stringify([MAGIC, stamp, file, text, env]))
    .digest();
}

export interface CachedLoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Where entries are kept; default `.fmguard/config-cache/` in the config file's folder. */
  cacheDir?: string;
}

/** What a cached load did (tests and the bench read it). */
export type CacheOutcome = 'hit' | 'miss' | 'off';

/**
 * `loadConfigFile(file)` with the cache above: the same config or the same `ConfigError`, faster when
 * neither the file, the variables it reads nor fmguard changed since the last successful load.
 */
export async function loadConfigFileCached(file: string, options: CachedLoadOptions = {}): Promise<{ config: FmguardConfig; cache: CacheOutcome }> {
  const env = options.env ?? process.env;
  const loadFresh = async () => (await import('./load.ts')).loadConfigFile(file, { env });
  if (env[CONFIG_CACHE_ENV] === '0') return { config: await loadFresh(), cache: 'off' };
  let text: string;
  let stamp: string;
  let absolute: string;
  try {
    text = readFileSync(file, 'utf8');
    absolute = resolvePath(file);
    stamp = codeStamp();
  } catch {
    return { config: await loadFresh(), cache: 'off' }; // unreadable: the full load says why
  }
  const entryFile = join(
    options.cacheDir ?? join(dirname(absolute), '.fmguard', 'config-cache'),
    `${createHash('sha256').update(absolute).digest('hex').slice(0, 32)}.bin`,
  );

  const hit = readEntry(entryFile, stamp, absolute, text, env);
  if (hit) return { config: hit, cache: 'hit' };

  // A full load, recording every variable it reads (an enumeration of the whole environment: not cacheable).
  const read = new Set<string>();
  let enumerated = false;
  const recorder = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
    has(target, name) {
      if (typeof name === 'string') read.add(name);
      return name in target;
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  // The text already read is the one parsed (and keyed): a file changing meanwhile cannot be cached under the old text.
  const { parseConfigText } = await import('./load.ts');
  const config = parseConfigText(text, { env: recorder, source: file, baseDir: dirname(absolute) });
  if (!enumerated) writeEntry(entryFile, stamp, absolute, text, env, [...read].sort(), config);
  return { config, cache: 'miss' };
}

function readEntry(entryFile: string, stamp: string, file: string, text: string, env: NodeJS.ProcessEnv): FmguardConfig | undefined {
  try {
    const data = readFileSync(entryFile);
    const headerEnd = data.indexOf(0x0a);
    const header = JSON.parse(data.subarray(0, headerEnd).toString('utf8')) as { magic: string; names: string[] };
    if (header.magic !== MAGIC || !Array.isArray(header.names)) return undefined;
    const key = keyOf(
      stamp,
      file,
      text,
      header.names.map((name) => [name, env[name] ?? null]),
    );
    const iv = data.subarray(headerEnd + 1, headerEnd + 13);
    const tag = data.subarray(headerEnd + 13, headerEnd + 29);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    decipher.setAAD(data.subarray(0, headerEnd));
    // A different text, path, environment or code derives a different key: authentication fails, a miss.
    const plain = Buffer.concat([decipher.update(data.subarray(headerEnd + 29)), decipher.final()]);
    return deserialize(plain) as FmguardConfig;
  } catch {
    return undefined;
  }
}

function writeEntry(entryFile: string, stamp: string, file: string, text: string, env: NodeJS.ProcessEnv, names: string[], config: FmguardConfig): void {
  try {
    if (!plainData(config)) return;
    const header = Buffer.from(JSON.stringify({ magic: MAGIC, names }), 'utf8');
    const key = keyOf(
      stamp,
      file,
      text,
      names.map((name) => [name, env[name] ?? null]),
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(serialize(config)), cipher.final()]);
    mkdirSync(dirname(entryFile), { recursive: true, mode: 0o700 });
    const tmp = `${entryFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, Buffer.concat([header, Buffer.from('\n'), iv, cipher.getAuthTag(), body]), { mode: 0o600 });
    renameSync(tmp, entryFile);
  } catch {
    // No cache this time (read-only folder, full disk): the load itself succeeded.
  }
}

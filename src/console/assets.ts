import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the console (see console/build.ts), relative to the package root. */
export const ASSETS_SUBDIR = join('dist', 'console-ui');

/** What the build writes beside the files: the entry script and stylesheet to link from the page. */
export interface AssetManifest {
  js: string;
  css: string;
}

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
}

export interface ConsoleAssets {
  manifest: AssetManifest;
  files: ReadonlyMap<string, Asset>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The package root: the nearest folder above this module with fmguard's package.json (src/ or a compiled dist/). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'fmguard') return dir;
      } catch {
        // Not ours; keep looking up.
      }
    }
    if (dirname(dir) === dir) return from;
  }
}

export function defaultAssetsDir(): string {
  return join(packageRoot(), ASSETS_SUBDIR);
}

/** Read the built console into memory (it is small), or undefined when it has not been built. */
export function loadAssets(dir: string): ConsoleAssets | undefined {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as AssetManifest;
  const files = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const gz = join(dir, `${name}.gz`);
    files.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      ...(existsSync(gz) && { gzip: readFileSync(gz) }),
    });
  }
  if (!files.has(manifest.js) || !files.has(manifest.css)) return undefined;
  return { manifest, files };
}

function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/.test(header);
}

/**
 * Send one built file. Names carry a content hash, so they are cached for a year; a precompressed
 * copy goes to clients that take gzip. False when there is no such file.
 */
export function sendAsset(req: IncomingMessage, res: ServerResponse, assets: ConsoleAssets, name: string): boolean {
  const asset = assets.files.get(name);
  if (!asset) return false;
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': 'public, max-age=31536000, immutable',
    etag: asset.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  const gzip = asset.gzip && acceptsGzip(req) ? asset.gzip : undefined;
  const body = gzip ?? asset.body;
  res.writeHead(200, { ...headers, ...(gzip && { 'content-encoding': 'gzip' }), 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

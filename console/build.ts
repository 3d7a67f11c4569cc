/**
 * Builds the console's browser code (console/src) into dist/console-ui: one ES module entry, the
 * chart library split into a chunk loaded only by the views that draw charts, one stylesheet, a
 * gzip copy of each file, and manifest.json naming the entry files for the gateway's HTML shell.
 * Run by `npm run build` (and by the console tests, so they always test the current sources).
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT_DIR = join(ROOT, 'dist', 'console-ui');

export interface BuiltFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface BuildResult {
  outDir: string;
  js: string;
  css: string;
  files: BuiltFile[];
}

export async function buildConsole({ outDir = DEFAULT_OUT_DIR }: { outDir?: string } = {}): Promise<BuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: 'console/src/main.tsx' },
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: outDir,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([file, o]) => o.entryPoint === 'console/src/main.tsx' && file.endsWith('.js'));
  if (!entry) throw new Error('console build: no entry output');
  const js = basename(entry[0]);
  const css = entry[1].cssBundle ? basename(entry[1].cssBundle) : undefined;
  if (!css) throw new Error('console build: the entry has no stylesheet');
  const files: BuiltFile[] = [];
  for (const name of readdirSync(outDir).sort()) {
    const body = readFileSync(join(outDir, name));
    const gzip = gzipSync(body, { level: 9 });
    writeFileSync(join(outDir, `${name}.gz`), gzip);
    files.push({ name, bytes: body.length, gzipBytes: gzip.length });
  }
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify({ js, css }, null, 2)}\n`);
  return { outDir, js, css, files };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildConsole();
  const total = built.files.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzip: a.gzip + f.gzipBytes }), { bytes: 0, gzip: 0 });
  for (const f of built.files) process.stdout.write(`${f.name.padEnd(28)} ${String(f.bytes).padStart(8)} B  ${String(f.gzipBytes).padStart(7)} B gzip\n`);
  process.stdout.write(`console built into ${built.outDir}: ${total.bytes} B, ${total.gzip} B gzip\n`);
}

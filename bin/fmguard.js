#!/usr/bin/env node
// The fmguard CLI, compiled to dist/ by `npm run build` (`npm start` and `npm test` build it first).
// To run the TypeScript sources directly during development: `npm run dev -- <args>` (tsx).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('fmguard: dist/ is missing; run `npm run build` first (or `npm run dev -- <args>` to run the sources)');
  process.exit(1);
}
await import(main.href);

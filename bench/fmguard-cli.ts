/**
 * The one place that says how the benchmarks run the fmguard CLI. They drive fmguard only through
 * it (plus config files and HTTP), so a change in how fmguard is started — e.g. bin/fmguard.js
 * running a compiled dist/ — is a one-line change here.
 */
import { fileURLToPath } from 'node:url';

/** The repository root (the benchmarks run every process from it). */
export const REPO = fileURLToPath(new URL('..', import.meta.url));

export function fmguardCommand(...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [`${REPO}bin/fmguard.js`, ...args] };
}

/** A bench script of this folder as a process of its own (TypeScript through tsx's loader). */
export function benchScriptCommand(file: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args] };
}

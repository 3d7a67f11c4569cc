/** Types of scripts/install-progress.mjs (imported by its test). */
export function installProgress(root: URL): { present: number; expected: number };
export function describeProgress(root: URL): string;

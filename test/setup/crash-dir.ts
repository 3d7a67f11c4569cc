import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Where the test processes leave notes and Node's fatal-error reports (artifacts/ is not in git). A
 * vitest run started by a test sets its own, so that it does not clear the notes of the run around it.
 */
export const CRASH_DIR = process.env.FMGUARD_TEST_CRASH_DIR ?? fileURLToPath(new URL('../../artifacts/test-processes', import.meta.url));

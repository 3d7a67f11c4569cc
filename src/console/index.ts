/** The web console at `/console`: sign-in, the built single-page app, and the admin API behind a session. */
export { createConsoleHandler, COOKIE, CSRF_HEADER, type ConsoleHandler, type ConsoleOptions } from './handler.ts';
export { defaultAssetsDir, packageRoot, ASSETS_SUBDIR } from './assets.ts';

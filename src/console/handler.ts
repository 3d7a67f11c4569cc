import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminRoute } from '../admin/admin-handler.ts';
import { noteConfigLoaded } from '../admin/config-info.ts';
import { closeEventStreams } from '../admin/events.ts';
import { queryOf } from '../admin/request.ts';
import { answerThrown, httpFailure } from '../http/error-response.ts';
import { readBody } from '../http/read-body.ts';
import { sendJson } from '../http/send-json.ts';
import type { Guard } from '../runtime/guard.ts';
import { defaultAssetsDir, loadAssets, sendAsset, type ConsoleAssets } from './assets.ts';
import { parseCookies, sessionCookie } from './cookies.ts';
import { isCrossSite, isSecure, PAGE_HEADERS } from './headers.ts';
import { loginPage, noticePage, shellPage } from './pages.ts';
import { createSessionKeeper, type Session } from './session.ts';
import { createSignInThrottle } from './throttle.ts';

export interface ConsoleOptions {
  guard: Guard;
  /** `server.adminToken`. Absent or empty: the console is off (fail closed), like the admin API. */
  adminToken?: string;
  /** How long a sign-in lasts. Default 8 hours. */
  sessionTtlMs?: number;
  /** The built console; default `dist/console-ui` in the package (`npm run build`). */
  assetsDir?: string;
  /** Failed sign-ins per client address before it must wait, and the window. Default 10 per 5 minutes. */
  signInLimit?: { max: number; windowMs: number };
  /** Unexpected errors (answered as a 500 without details). */
  onError?: (error: unknown, where: { method: string; path: string }) => void;
}

export interface ConsoleHandler {
  /** Answer a request under `/console`; false (nothing written) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** End the console's open event streams (they never end on their own). */
  close(): void;
}

export const COOKIE = 'fmguard_console';
export const CSRF_HEADER = 'x-fmguard-csrf';
const MAX_LOGIN_BODY = 8 * 1024;
const DEFAULT_TTL_MS = 8 * 3_600_000;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function sendPage(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': String(Buffer.byteLength(html)), ...headers });
  res.end(html);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': '0', ...headers });
  res.end();
}

/** Only a path inside the console may be returned to after sign-in (no open redirect). */
function safeNext(value: string | null): string {
  return value !== null && /^\/console\/[A-Za-z0-9._~%/:@!$&'()*+,;=?-]*$/.test(value) && !value.startsWith('/console//') ? value : '/console/';
}

/** An optional display name: printable, short, no markup. */
function cleanName(value: string | null): string | undefined {
  const name = (value ?? '')
    .replace(/[^\p{L}\p{N} ._@-]/gu, '')
    .trim()
    .slice(0, 64);
  return name === '' ? undefined : name;
}

function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * The web console at `/console`, served by the gateway: a sign-in form that sets an HttpOnly,
 * SameSite=Strict session cookie (Secure over TLS), the built single-page app, and `/console/api/*`,
 * which is the admin API behind that session, with a CSRF token on every state-changing request.
 */
export function createConsoleHandler({
  guard,
  adminToken,
  sessionTtlMs = DEFAULT_TTL_MS,
  assetsDir = defaultAssetsDir(),
  signInLimit,
  onError,
}: ConsoleOptions): ConsoleHandler {
  noteConfigLoaded(guard.config, guard.clock.now());
  const sessions = adminToken ? createSessionKeeper(adminToken, sessionTtlMs) : undefined;
  const throttle = createSignInThrottle(signInLimit?.max, signInLimit?.windowMs);
  let assets: ConsoleAssets | undefined;
  const currentAssets = () => (assets ??= loadAssets(assetsDir));

  const sessionOf = (req: IncomingMessage): Session | undefined => sessions?.read(parseCookies(req.headers.cookie).get(COOKIE), guard.clock.now());

  const cookie = (req: IncomingMessage, value: string, maxAgeMs: number) =>
    sessionCookie(COOKIE, value, { path: '/console', maxAge: maxAgeMs / 1000, secure: isSecure(req) });

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const manifest = currentAssets()?.manifest;
    if (isCrossSite(req)) return sendPage(res, 403, loginPage({ assets: manifest, error: 'Sign-in from another site is refused.' }));
    const now = guard.clock.now();
    const client = clientOf(req);
    const wait = throttle.retryAfter(client, now);
    if (wait > 0) {
      req.resume();
      return sendPage(res, 429, loginPage({ assets: manifest, error: `Too many wrong tokens. Try again in ${Math.ceil(wait / 1000)} s.` }), {
        'retry-after': String(Math.ceil(wait / 1000)),
      });
    }
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      req.resume();
      return sendPage(res, 400, loginPage({ assets: manifest, error: 'Sign in with the form.' }));
    }
    const form = new URLSearchParams((await readBody(req, MAX_LOGIN_BODY)).toString('utf8'));
    const next = safeNext(form.get('next'));
    const who = cleanName(form.get('who'));
    if (!sessions!.tokenMatches(form.get('token') ?? '')) {
      throttle.failed(client, now);
      return sendPage(res, 401, loginPage({ assets: manifest, error: 'That is not the admin token.', next, who }));
    }
    throttle.succeeded(client);
    const { value } = sessions!.issue(now, who);
    redirect(res, next, { 'set-cookie': cookie(req, value, sessionTtlMs) });
  }

  async function signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = sessionOf(req);
    if (session) {
      const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams((await readBody(req, MAX_LOGIN_BODY)).toString('utf8'))
        : undefined;
      const given = form?.get('csrf') ?? (req.headers[CSRF_HEADER] as string | undefined);
      if (isCrossSite(req) || !sessions!.csrfMatches(session, given ?? undefined)) throw httpFailure(403, 'auth.invalid', 'missing or wrong CSRF token');
      sessions!.revoke(session, guard.clock.now());
    }
    redirect(res, '/console/login', { 'set-cookie': cookie(req, '', 0) });
  }

  async function api(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    const session = sessionOf(req);
    if (!session) throw httpFailure(401, 'auth.invalid', 'not signed in to the console (or the session expired): sign in at /console/login');
    if (method !== 'GET' && method !== 'HEAD') {
      if (isCrossSite(req)) throw httpFailure(403, 'auth.invalid', 'cross-site request refused');
      const given = req.headers[CSRF_HEADER];
      if (!sessions!.csrfMatches(session, typeof given === 'string' ? given : undefined)) {
        throw httpFailure(403, 'auth.invalid', `missing or wrong CSRF token (${CSRF_HEADER})`);
      }
    }
    const { handler, params } = adminRoute(method, `/admin/${path.slice('/console/api/'.length)}`);
    const reply = await handler({ guard, req, params, query: queryOf(req.url) });
    if (reply.stream) reply.stream(res);
    else sendJson(res, reply.status ?? 200, reply.body, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  }

  function page(req: IncomingMessage, res: ServerResponse, path: string): void {
    const session = sessionOf(req);
    if (!session) return redirect(res, path === '/console/' ? '/console/login' : `/console/login?next=${encodeURIComponent(path)}`);
    const built = currentAssets();
    if (!built) return sendPage(res, 503, noticePage('Console not built', 'The console has not been built in this installation: run `npm run build`.'));
    sendPage(res, 200, shellPage({ assets: built.manifest, csrf: sessions!.csrfToken(session), who: session.who, expiresAt: session.expiresAt }));
  }

  async function route(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    const get = method === 'GET' || method === 'HEAD';
    if (path.startsWith('/console/assets/')) {
      const built = currentAssets();
      if (!get || !built || !sendAsset(req, res, built, path.slice('/console/assets/'.length)))
        throw httpFailure(404, 'request.invalid', `no console asset ${path}`);
      return;
    }
    if (!sessions) {
      if (path.startsWith('/console/api/')) throw httpFailure(403, 'auth.invalid', 'the console is disabled: set server.adminToken in the config to enable it');
      return sendPage(res, 403, noticePage('Console disabled', 'The console is off: set server.adminToken in the config to enable it.'));
    }
    if (path.startsWith('/console/api/')) return api(req, res, method, path);
    if (path === '/console/login') {
      if (method === 'POST') return signIn(req, res);
      if (!get) throw httpFailure(405, 'request.invalid', `${method} is not allowed on ${path}`, { allow: 'GET, POST' });
      if (sessionOf(req)) return redirect(res, '/console/');
      return sendPage(res, 200, loginPage({ assets: currentAssets()?.manifest, next: safeNext(queryOf(req.url).get('next')) }));
    }
    if (path === '/console/logout') {
      if (method !== 'POST') throw httpFailure(405, 'request.invalid', `${method} is not allowed on ${path}`, { allow: 'POST' });
      return signOut(req, res);
    }
    if (!get) throw httpFailure(405, 'request.invalid', `${method} is not allowed on ${path}`, { allow: 'GET' });
    if (path === '/console') return redirect(res, '/console/');
    return page(req, res, path);
  }

  return {
    async handle(req, res) {
      const path = pathOf(req.url ?? '/');
      if (path !== '/console' && !path.startsWith('/console/')) return false;
      const method = req.method ?? 'GET';
      try {
        await route(req, res, method, path);
      } catch (error) {
        answerThrown(res, error, { method, path }, onError);
      }
      return true;
    },
    close() {
      closeEventStreams(guard);
    },
  };
}

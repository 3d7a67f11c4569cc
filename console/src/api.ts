/** Calls to /console/api (the admin API behind the session), with the CSRF token on every change. */

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
}

export const csrfToken = meta('fmguard-csrf');
export const userName = meta('fmguard-user');
/** Who the audit log names for this operator's actions. */
export const actor = userName ? `console:${userName}` : 'console';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['x-fmguard-csrf'] = csrfToken;
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`/console/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 401) {
    // The session expired or was signed out: back to the sign-in form, then here again.
    location.assign(`/console/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, 'auth.invalid', 'signed out');
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'request.invalid', json.error?.message ?? `HTTP ${res.status}`);
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => call<T>('GET', withQuery(path, query)),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  delete: <T>(path: string) => call<T>('DELETE', path),
};

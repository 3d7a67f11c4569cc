import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, consoleConfig, signIn, startConsoleGateway, type ConsoleGateway } from './helpers.ts';

let gw: ConsoleGateway;
beforeAll(async () => {
  gw = await startConsoleGateway({ console: { signInLimit: { max: 4, windowMs: 60_000 } } });
});
afterAll(() => gw?.close());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('console: sign-in', () => {
  it('the sign-in page is a plain form under a strict CSP: no inline script, the token posted, never in a URL', async () => {
    const res = await fetch(`${gw.url}/console/login`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toMatch(/<form method="post" action="\/console\/login"/);
    expect(html).toMatch(/type="password"/);
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    // A token in the query string does nothing: it is not how one signs in.
    const viaUrl = await fetch(`${gw.url}/console/login?token=${ADMIN_TOKEN}`, { redirect: 'manual' });
    expect(viaUrl.status).toBe(200);
    expect(viaUrl.headers.get('set-cookie')).toBeNull();
  });

  it('a wrong token is refused (401, no cookie, the token not echoed); the right one sets an HttpOnly SameSite=Strict cookie', async () => {
    const wrong = await fetch(`${gw.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: FORM,
      body: form({ token: 'not-the-token-123', who: 'mallory' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const page = await wrong.text();
    expect(page).toContain('That is not the admin token.');
    expect(page).not.toContain('not-the-token-123');

    const { response, cookie, csrf } = await signIn(gw.url, ADMIN_TOKEN, 'alice');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console/');
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^fmguard_console=[^;]+; Path=\/console; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain('Secure'); // plain http on loopback
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    expect(cookie).toMatch(/^fmguard_console=/);
    expect(csrf.length).toBeGreaterThan(20);
  });

  it('behind TLS (x-forwarded-proto: https) the cookie is also Secure', async () => {
    const res = await fetch(`${gw.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...FORM, 'x-forwarded-proto': 'https' },
      body: form({ token: ADMIN_TOKEN }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('the page shell carries the CSRF token and the built assets, never the admin token', async () => {
    const { cookie } = await signIn(gw.url);
    const res = await fetch(`${gw.url}/console/`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toContain(ADMIN_TOKEN);
    expect(html).toMatch(/<script type="module" src="\/console\/assets\/app-[A-Z0-9]+\.js"><\/script>/);
    // Deep links work once signed in; without a session they go to the sign-in form and come back.
    expect((await fetch(`${gw.url}/console/runs/abc`, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${gw.url}/console/runs/abc`, { redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fruns%2Fabc');
  });

  it('a forged or tampered cookie is no session', async () => {
    const { cookie } = await signIn(gw.url);
    const value = cookie.slice('fmguard_console='.length);
    const [payload, mac] = value.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, expiresAt: claims.expiresAt + 1e9 })).toString('base64url');
    for (const bad of [`fmguard_console=${forged}.${mac}`, `fmguard_console=${payload}.${'A'.repeat(mac!.length)}`, 'fmguard_console=garbage']) {
      const res = await fetch(`${gw.url}/console/api/runs`, { headers: { cookie: bad } });
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('auth.invalid');
    }
  });

  it('assets: precompressed, cached for a year, 304 on a matching ETag, 404 for anything else', async () => {
    const html = await (await fetch(`${gw.url}/console/login`)).text();
    const css = /href="(\/console\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    const res = await fetch(`${gw.url}${css}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect((await res.text()).length).toBeGreaterThan(1000);
    const again = await fetch(`${gw.url}${css}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${gw.url}/console/assets/../../package.json`)).status).toBe(404);
    expect((await fetch(`${gw.url}/console/assets/manifest.json`)).status).toBe(404);
  });
});

describe('console: CSRF and the API behind the session', () => {
  it('the API needs a session: no cookie → 401 auth.invalid', async () => {
    const res = await fetch(`${gw.url}/console/api/runs`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-fmguard-code')).toBe('auth.invalid');
    // The admin bearer token is not a console session, and a session is not an admin token.
    expect((await fetch(`${gw.url}/console/api/runs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
    const { cookie } = await signIn(gw.url);
    expect((await fetch(`${gw.url}/admin/runs`, { headers: { cookie } })).status).toBe(401);
  });

  it('a state-changing request without the CSRF token is refused with 403 auth.invalid and changes nothing', async () => {
    const { cookie, csrf } = await signIn(gw.url);
    const kill = (headers: Record<string, string>) =>
      fetch(`${gw.url}/console/api/kill`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ scope: 'tenant:beta', reason: 'csrf test' }),
      });
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-fmguard-csrf': 'wrong' },
      { 'x-fmguard-csrf': csrf, origin: 'https://evil.example' },
      { 'x-fmguard-csrf': csrf, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of attempts) {
      const res = await kill(headers);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-fmguard-code')).toBe('auth.invalid');
      expect((await res.json()).error).toMatchObject({ code: 'auth.invalid', type: 'fmguard_error' });
    }
    expect((await gw.admin('GET', '/admin/kill')).json.switches).toEqual([]);
    // With the token the same request goes through.
    const ok = await kill({ 'x-fmguard-csrf': csrf, origin: gw.url });
    expect(ok.status).toBe(200);
    expect((await gw.admin('GET', '/admin/kill')).json.switches.map((s: { scope: string }) => s.scope)).toEqual(['tenant:beta']);
    await gw.admin('POST', '/admin/unkill', { scope: 'tenant:beta' });
    // Another session's token does not fit this session.
    const other = await signIn(gw.url);
    expect((await kill({ 'x-fmguard-csrf': other.csrf })).status).toBe(403);
  });

  it('signing out ends the session: the old cookie stops working', async () => {
    const { cookie, csrf } = await signIn(gw.url);
    expect((await fetch(`${gw.url}/console/api/runs`, { headers: { cookie } })).status).toBe(200);
    const noToken = await fetch(`${gw.url}/console/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, ...FORM }, body: form({}) });
    expect(noToken.status).toBe(403);
    const out = await fetch(`${gw.url}/console/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, ...FORM, origin: gw.url },
      body: form({ csrf }),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^fmguard_console=; Path=\/console; Max-Age=0/);
    expect((await fetch(`${gw.url}/console/api/runs`, { headers: { cookie } })).status).toBe(401);
  });

  it('the token never reaches the audit log, and nothing it writes names it', async () => {
    await signIn(gw.url, 'wrong-token-zzz');
    await signIn(gw.url);
    await gw.guard.audit!.flush();
    const events = await gw.guard.audit!.sink.query({ limit: 10_000 });
    expect(JSON.stringify(events)).not.toContain(ADMIN_TOKEN);
    const config = await gw.admin('GET', '/admin/config/info');
    expect(JSON.stringify(config.json)).not.toContain(ADMIN_TOKEN);
    expect(config.json.config.server.adminToken).toMatch(/^\*\*\*\*/);
  });
});

describe('console: limits and expiry', () => {
  it('too many wrong tokens from one address: 429 with retry-after, even for the right token', async () => {
    const own = await startConsoleGateway({ console: { signInLimit: { max: 3, windowMs: 60_000 } } });
    try {
      for (let i = 0; i < 3; i++) expect((await signIn(own.url, `guess-${i}`)).response.status).toBe(401);
      const blocked = await signIn(own.url);
      expect(blocked.response.status).toBe(429);
      expect(Number(blocked.response.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });

  it('sessions expire: after the TTL the API answers 401 and pages go back to sign-in', async () => {
    const own = await startConsoleGateway({ console: { sessionTtlMs: 400 } });
    try {
      const { cookie } = await signIn(own.url);
      expect((await fetch(`${own.url}/console/api/runs`, { headers: { cookie } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect((await fetch(`${own.url}/console/api/runs`, { headers: { cookie } })).status).toBe(401);
      expect((await fetch(`${own.url}/console/`, { headers: { cookie }, redirect: 'manual' })).headers.get('location')).toBe('/console/login');
    } finally {
      await own.close();
    }
  });

  it('no admin token configured: the console is off (403), like the admin API', async () => {
    const own = await startConsoleGateway({ config: (dir) => ({ ...consoleConfig(dir), server: {} }) });
    try {
      const page = await fetch(`${own.url}/console/login`);
      expect(page.status).toBe(403);
      expect(await page.text()).toContain('server.adminToken');
      const login = await signIn(own.url, '');
      expect(login.response.status).toBe(403);
      expect((await fetch(`${own.url}/console/api/runs`)).status).toBe(403);
    } finally {
      await own.close();
    }
  });
});

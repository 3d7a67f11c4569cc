import type { AssetManifest } from './assets.ts';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function head(title: string, assets: AssetManifest | undefined, extra = ''): string {
  const css = assets ? `<link rel="stylesheet" href="/console/assets/${escapeHtml(assets.css)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
${css}${extra}
</head>`;
}

export interface LoginPageOptions {
  assets?: AssetManifest;
  /** Shown above the form (a refused token, a throttled client, an expired session). */
  error?: string;
  next?: string;
  who?: string;
}

/** The sign-in form: a POST, so the token travels in the body, never in a URL. No script. */
export function loginPage({ assets, error, next, who }: LoginPageOptions): string {
  return `${head('Sign in · fmguard console', assets)}
<body class="login">
<main class="login-card">
<h1>fmguard console</h1>
<p class="muted">Sign in with the gateway's admin token (<code>server.adminToken</code>).</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/console/login" autocomplete="off">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" required autocomplete="current-password" autofocus>
<label for="who">Your name <span class="muted">(optional; recorded with your actions)</span></label>
<input id="who" name="who" type="text" maxlength="64" value="${escapeHtml(who ?? '')}">
<input type="hidden" name="next" value="${escapeHtml(next ?? '/console/')}">
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>`;
}

export interface ShellOptions {
  assets: AssetManifest;
  csrf: string;
  who?: string;
  expiresAt: number;
}

/**
 * The single page every console view starts from: the built script and stylesheet (no inline script,
 * so the CSP can forbid it), and the session's CSRF token for the script to echo. Never the admin token.
 */
export function shellPage({ assets, csrf, who, expiresAt }: ShellOptions): string {
  const meta = `
<meta name="fmguard-csrf" content="${escapeHtml(csrf)}">
<meta name="fmguard-user" content="${escapeHtml(who ?? '')}">
<meta name="fmguard-session-expires" content="${expiresAt}">
<script type="module" src="/console/assets/${escapeHtml(assets.js)}"></script>`;
  return `${head('fmguard console', assets, meta)}
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript><p>The fmguard console needs JavaScript.</p></noscript>
</body>
</html>`;
}

/** A page for a console that cannot be used (off, or not built). */
export function noticePage(title: string, message: string, assets?: AssetManifest): string {
  return `${head(`${title} · fmguard console`, assets)}
<body class="login">
<main class="login-card">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
</main>
</body>
</html>`;
}

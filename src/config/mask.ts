import type { FmguardConfig } from './resolve.ts';

/** `sk-live-abcdef123456` → `****3456`: enough to recognise a key, never enough to use it. */
export function maskSecret(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  return secret.length <= 8 ? '****' : `****${secret.slice(-4)}`;
}

/** A URL with its userinfo and query values masked (`https://u:p@h/x?token=abc` → `https://****@h/x?token=****`). */
export function maskUrl(url: string): string {
  const masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1****@');
  const query = masked.indexOf('?');
  if (query < 0) return masked;
  const hash = masked.indexOf('#', query);
  const end = hash < 0 ? masked.length : hash;
  const params = masked
    .slice(query + 1, end)
    .split('&')
    .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=****` : pair));
  return `${masked.slice(0, query + 1)}${params.join('&')}${hash < 0 ? '' : '#****'}`;
}

/** Every value masked, the names kept (headers, environment variables). */
function maskValues(record: Record<string, string> | undefined): Record<string, string> | undefined {
  return record && Object.fromEntries(Object.keys(record).map((name) => [name, '****']));
}

/**
 * A stdio command's arguments: a bare flag (`--verbose`, `-v`) is shown, a flag's value
 * (`--token=abc`) and every other argument (a path, a token) are masked: any of them may be a secret.
 */
function maskArgs(args: readonly string[] | undefined): string[] | undefined {
  return args?.map((arg) => {
    if (/^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(arg)) return arg;
    const flag = /^(--?[A-Za-z0-9][A-Za-z0-9-]*)=/.exec(arg);
    return flag ? `${flag[1]}=****` : '****';
  });
}

function maskProvider(p: FmguardConfig['providers'][string]): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...p };
  if ('apiKey' in p && p.apiKey !== undefined) masked.apiKey = maskSecret(p.apiKey);
  if ('headers' in p && p.headers) masked.headers = maskValues(p.headers);
  if ('baseUrl' in p && typeof p.baseUrl === 'string') masked.baseUrl = maskUrl(p.baseUrl);
  if ('endpoint' in p && typeof p.endpoint === 'string') masked.endpoint = maskUrl(p.endpoint);
  return masked;
}

function maskToolServer(server: FmguardConfig['toolServers'][string]): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...server };
  if (server.kind === 'http') {
    masked.url = maskUrl(server.url);
    if (server.headers) masked.headers = maskValues(server.headers);
  }
  if (server.kind === 'stdio') {
    if (server.args) masked.args = maskArgs(server.args);
    if (server.env) masked.env = maskValues(server.env);
  }
  return masked;
}

/** Alarm actions may name a webhook with credentials in its URL or headers. */
function maskAlarm(alarm: FmguardConfig['alarms'][number]): unknown {
  const actions = (alarm as { actions?: unknown[] }).actions;
  if (!Array.isArray(actions)) return alarm;
  return {
    ...alarm,
    actions: actions.map((action) => {
      const webhook = (action as { webhook?: { url?: unknown; headers?: Record<string, string> } } | null)?.webhook;
      if (!webhook) return action;
      return {
        ...(action as object),
        webhook: {
          ...webhook,
          ...(typeof webhook.url === 'string' ? { url: maskUrl(webhook.url) } : {}),
          ...(webhook.headers ? { headers: maskValues(webhook.headers) } : {}),
        },
      };
    }),
  };
}

const mapValues = <T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(record).map(([name, value]) => [name, fn(value)]));

/**
 * The resolved configuration as plain data with every secret masked (for `fmguard config check`,
 * logs, `/admin/config`, the console): provider keys and headers, tool-server headers, stdio
 * `args`/`env` values, URL userinfo and query values, webhook headers, agent keys (shown as their
 * hash id and last four characters), the admin and metrics tokens, the audit key.
 */
export function describeConfig(config: FmguardConfig): Record<string, unknown> {
  const agents = mapValues(config.agents, (a) => ({ ...a, keys: a.keys.map(({ secret, ...key }) => ({ ...key, key: maskSecret(secret) })) }));
  const { keyIndex: _keyIndex, ...rest } = config;
  const store =
    config.store.kind === 'redis'
      ? { ...config.store, url: maskUrl(config.store.url), ...(config.store.cluster ? { cluster: config.store.cluster.map(maskUrl) } : {}) }
      : config.store;
  return {
    ...rest,
    store,
    providers: mapValues(config.providers, maskProvider),
    toolServers: mapValues(config.toolServers, maskToolServer),
    alarms: config.alarms.map(maskAlarm),
    agents,
    server: {
      ...config.server,
      adminToken: maskSecret(config.server.adminToken),
      ...(config.server.metricsToken !== undefined ? { metricsToken: maskSecret(config.server.metricsToken) } : {}),
    },
    audit: {
      ...config.audit,
      ...(config.audit.url ? { url: maskUrl(config.audit.url) } : {}),
      ...(config.audit.key ? { key: maskSecret(config.audit.key) } : {}),
    },
  };
}

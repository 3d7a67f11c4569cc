import type { FmguardConfig } from './resolve.ts';

/** `sk-live-abcdef123456` → `****3456`: enough to recognise a key, never enough to use it. */
export function maskSecret(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  return secret.length <= 8 ? '****' : `****${secret.slice(-4)}`;
}

/** The resolved configuration as plain data with every secret masked (for `fmguard config check`, logs, admin). */
export function describeConfig(config: FmguardConfig): Record<string, unknown> {
  const providers = Object.fromEntries(
    Object.entries(config.providers).map(([name, p]) => {
      const masked: Record<string, unknown> = { ...p };
      if ('apiKey' in p && p.apiKey !== undefined) masked.apiKey = maskSecret(p.apiKey);
      if ('headers' in p && p.headers) masked.headers = Object.fromEntries(Object.keys(p.headers).map((h) => [h, '****']));
      return [name, masked];
    }),
  );
  const agents = Object.fromEntries(
    Object.entries(config.agents).map(([name, a]) => [name, { ...a, keys: a.keys.map(({ secret, ...key }) => ({ ...key, key: maskSecret(secret) })) }]),
  );
  const { keyIndex: _keyIndex, ...rest } = config;
  const store = config.store.kind === 'redis' ? { ...config.store, url: config.store.url.replace(/\/\/[^@/]*@/, '//****@') } : config.store;
  return {
    ...rest,
    store,
    providers,
    agents,
    server: { ...config.server, adminToken: maskSecret(config.server.adminToken) },
    audit: {
      ...config.audit,
      ...(config.audit.url ? { url: config.audit.url.replace(/\/\/[^@/]*@/, '//****@') } : {}),
      ...(config.audit.key ? { key: maskSecret(config.audit.key) } : {}),
    },
  };
}

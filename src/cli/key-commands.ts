import type { Command } from 'commander';
import type { ApiKeyView, MintRequest } from '../runtime/api-keys.ts';
import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';

/** `30d`, `12h`, `90m` → ms from now; or an ISO date / epoch ms → that time. */
function expiry(text: string, now = Date.now()): number {
  const span = /^(\d+)(m|h|d)$/.exec(text);
  if (span) return now + Number(span[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd'];
  const at = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(at)) throw new Error(`--expires: expected a duration such as 30d / 12h / 90m, an ISO date or epoch ms, got "${text}"`);
  return at;
}

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${name}: expected a positive number, got "${value}"`);
    return n;
  };
}

/**
 * Run `fn` on the store and config the command's config file names, with the audit log beside them
 * (the same log a gateway on that store writes), closed afterwards.
 */
async function withKeyParts<T>(file: string | undefined, fn: (parts: import('../runtime/api-keys.ts').ApiKeyParts) => Promise<T>): Promise<T> {
  const { withStore } = await import('./open.ts');
  const { openAuditLog } = await import('../wiring/services.ts');
  const { systemClock } = await import('../core/clock.ts');
  return withStore(file, async (store, config) => {
    // A memory store lives and dies with this command: a key minted there would reach no gateway.
    if (store.kind === 'memory')
      throw new Error('the config names the memory store, which no gateway shares with this command: use POST /admin/keys on the gateway');
    const audit = openAuditLog(config, store, systemClock);
    try {
      return await fn({ store, config, audit, now: Date.now() });
    } finally {
      await audit?.close();
    }
  });
}

const row = (k: ApiKeyView, iso: (ms?: number) => string) => [
  k.id,
  k.agent,
  k.name,
  k.hint,
  k.status,
  iso(k.createdAt),
  k.expiresAt ? iso(k.expiresAt) : 'never',
];

interface CreateOptions {
  config?: string;
  agent: string;
  name?: string;
  expires?: string;
  dailyUsd?: number;
  monthlyUsd?: number;
  rpm?: number;
  tpm?: number;
  json?: boolean;
}

async function create(o: CreateOptions): Promise<void> {
  const { mintApiKey } = await import('../runtime/api-keys.ts');
  const { emit } = await import('./table.ts');
  const request: MintRequest = {
    agent: o.agent,
    name: o.name,
    expiresAt: o.expires === undefined ? undefined : expiry(o.expires),
    budgets: [
      ...(o.dailyUsd !== undefined ? [{ period: 'day' as const, maxCostUsd: o.dailyUsd }] : []),
      ...(o.monthlyUsd !== undefined ? [{ period: 'month' as const, maxCostUsd: o.monthlyUsd }] : []),
    ],
    rateLimits: { ...(o.rpm !== undefined && { requestsPerMinute: Math.ceil(o.rpm) }), ...(o.tpm !== undefined && { tokensPerMinute: Math.ceil(o.tpm) }) },
    by: 'cli',
  };
  const { secret, key } = await withKeyParts(o.config, (parts) => mintApiKey(parts, request));
  emit(o.json, { secret, key }, () => `${secret}\n\nkey ${key.id} for agent ${key.agent}: the secret above is shown this once; fmguard keeps only its hash.`);
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys minted at run time, beside the keys in the config (stored as hashes; audited)');
  keys
    .command('create')
    .description('Mint a key for an agent; the secret is printed this once')
    .requiredOption('--agent <name>', 'the agent of the config the key authenticates as')
    .option('--name <label>', 'a label to recognise the key by')
    .option('--expires <when>', 'when it stops working: 30d, 12h, 90m from now, an ISO date or epoch ms (default: never)')
    .option('--daily-usd <usd>', "the key's own daily budget", positive('--daily-usd'))
    .option('--monthly-usd <usd>', "the key's own monthly budget", positive('--monthly-usd'))
    .option('--rpm <n>', "the key's own requests per minute", positive('--rpm'))
    .option('--tpm <n>', "the key's own tokens per minute", positive('--tpm'))
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .action((o: CreateOptions) => create(o));
  keys
    .command('list')
    .description('Minted keys, oldest first, with their status (never a secret)')
    .option('--agent <name>', 'only this agent')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .action(async (o: { config?: string; agent?: string; json?: boolean }) => {
      const { listApiKeys } = await import('../runtime/api-keys.ts');
      const { emit, formatTable, iso } = await import('./table.ts');
      const list = await withKeyParts(o.config, (parts) => listApiKeys(parts, { agent: o.agent }));
      emit(o.json, { keys: list }, () =>
        formatTable(
          ['id', 'agent', 'name', 'hint', 'status', 'created', 'expires'],
          list.map((k) => row(k, iso)),
        ),
      );
    });
  keys
    .command('revoke')
    .argument('<id>', 'the key id (mk_…)')
    .description('Revoke a minted key: every gateway sharing the store refuses it from its next request on')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .action(async (id: string, o: { config?: string; json?: boolean }) => {
      const { revokeApiKey } = await import('../runtime/api-keys.ts');
      const { emit } = await import('./table.ts');
      const result = await withKeyParts(o.config, (parts) => revokeApiKey(parts, id, 'cli'));
      if (!result) throw new Error(`no API key "${id}"`);
      emit(o.json, result, () => (result.revoked ? `revoked ${id}` : `${id} was already revoked`));
    });
}

import OpenAI from 'openai';
import { admin, ADMIN_TOKEN } from '../admin/helpers.ts';
import { BOT_KEY, gatewayConfig, startGateway, type StartOptions, type TestGateway } from '../gateway/helpers.ts';

export { admin, ADMIN_TOKEN };

/** A gateway with the admin API on, over the given store (memory unless said). */
export function startKeyGateway(
  options: { store?: Record<string, unknown>; audit?: Record<string, unknown>; bot?: Record<string, unknown> } & Omit<StartOptions, 'config'> = {},
) {
  const { store = { kind: 'memory' }, audit = { sink: 'memory' }, bot = {}, ...rest } = options;
  return startGateway({
    ...rest,
    config: gatewayConfig(bot, { store, server: { adminToken: ADMIN_TOKEN }, audit } as never),
    guard: { background: false, ...rest.guard },
  });
}

/** Mint a key through the admin API; fails the test unless it is created. */
export async function mint(
  gw: TestGateway,
  body: Record<string, unknown> = { agent: 'bot' },
): Promise<{ secret: string; id: string; key: Record<string, unknown> }> {
  const res = await admin(gw, 'POST', '/admin/keys', body);
  if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${JSON.stringify(res.json)}`);
  return { secret: res.json.secret, id: res.json.key.id, key: res.json.key };
}

/** One chat completion with the official client and this key: the answer, or the client's error. */
export async function chatWith(
  gw: TestGateway,
  key: string,
  text = 'hello',
): Promise<{ ok: true; content: string } | { ok: false; status?: number; code?: string; error: unknown }> {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  try {
    const out = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: text }] });
    return { ok: true, content: out.choices[0]?.message.content ?? '' };
  } catch (error) {
    const e = error as { status?: number; code?: string };
    return { ok: false, status: e.status, code: e.code ?? undefined, error };
  }
}

export { BOT_KEY };

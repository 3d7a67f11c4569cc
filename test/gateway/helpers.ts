import OpenAI from 'openai';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { Gateway, GatewayOptions } from '../../src/gateway/index.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { createGuard, type CreateGuardOptions } from '../../src/wiring/guard.ts';
import { createSimModel, type SimModel, type SimModelOptions } from '../../src/providers/simulated/sim-model.ts';

export const BOT_KEY = 'sk-test-bot-0001';
export const OTHER_KEY = 'sk-test-other-0001';

/** A small config on the simulated provider, two agents of one tenant allowed everything; override per test. */
export function gatewayConfig(bot: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
    },
    tenants: { acme: {} },
    agents: {
      bot: { tenant: 'acme', keys: [BOT_KEY], allow: { models: ['*'], tools: ['*'] }, ...bot } as never,
      other: { tenant: 'acme', keys: [OTHER_KEY], allow: { models: ['*'], tools: ['*'] } },
    },
    defaults: { retry: [] },
    ...extra,
  } as ConfigInput;
}

export interface TestGateway {
  guard: Guard;
  gateway: Gateway;
  sim: SimModel;
  url: string;
  /** HTTP requests the gateway received (to see a client's retries). */
  requests: () => number;
  /** The official client, pointed at the gateway. */
  client(options?: { key?: string; maxRetries?: number; headers?: Record<string, string> }): OpenAI;
  /** Raw POST to /v1/chat/completions. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: ConfigInput;
  sim?: SimModelOptions;
  guard?: Partial<CreateGuardOptions>;
  gateway?: Partial<GatewayOptions>;
}

const open: TestGateway[] = [];

/** A real listening gateway on 127.0.0.1 (any free port) over a guard with the in-process sim. */
export async function startGateway({
  config = gatewayConfig(),
  sim: simOptions,
  guard: guardOptions,
  gateway: gatewayOptions,
}: StartOptions = {}): Promise<TestGateway> {
  const sim = createSimModel(simOptions);
  const guard = createGuard({ config, providers: { sim }, ...guardOptions });
  const gateway = createGateway({ guard, ...gatewayOptions });
  let requests = 0;
  gateway.server.on('request', () => requests++);
  const { url } = await gateway.listen(0, '127.0.0.1');
  const test: TestGateway = {
    guard,
    gateway,
    sim,
    url,
    requests: () => requests,
    client: ({ key = BOT_KEY, maxRetries = 2, headers } = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries, defaultHeaders: headers }),
    post: (body, headers = {}) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    async close() {
      await gateway.close(100);
      await guard.close();
    },
  };
  open.push(test);
  return test;
}

/** Close every gateway a test started (call from afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((t) => t.close()));
}

export function ask(text: string, model = 'sim-small') {
  return { model, messages: [{ role: 'user' as const, content: text }] };
}

export const searchTool = {
  type: 'function' as const,
  function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
};

/** Parse an SSE body into its `data:` payloads. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

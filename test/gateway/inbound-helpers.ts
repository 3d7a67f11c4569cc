import Anthropic from '@anthropic-ai/sdk';
import { BOT_KEY, type TestGateway } from './helpers.ts';

/**
 * Shared by the tests of the routes beside chat completions (/v1/responses, /v1/messages,
 * /v1/embeddings): the official Anthropic client, raw POSTs, and the shapes of their tools.
 */

/** The official Anthropic client pointed at the gateway (it appends /v1/messages to the base URL). */
export function anthropic(gw: TestGateway, options: { key?: string; maxRetries?: number; headers?: Record<string, string> } = {}): Anthropic {
  return new Anthropic({ baseURL: gw.url, apiKey: options.key ?? BOT_KEY, maxRetries: options.maxRetries ?? 0, defaultHeaders: options.headers });
}

/** A raw POST with the bot's key as a bearer token (override with headers). */
export function postTo(gw: TestGateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A Responses API function tool. */
export function responsesTool(name: string) {
  return { type: 'function' as const, name, parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: false };
}

/** A Messages API client tool. */
export function messagesTool(name: string) {
  return { name, description: `the ${name} tool`, input_schema: { type: 'object' as const, properties: { query: { type: 'string' } } } };
}

/** Named SSE events of a body: `[event, parsed data]`. */
export function namedSse(text: string): Array<[string, Record<string, unknown>]> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '{}';
      return [event, JSON.parse(data) as Record<string, unknown>];
    });
}

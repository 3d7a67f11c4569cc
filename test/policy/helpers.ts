import type { DecisionRequest, ModelCallContext, PolicySpec, ToolCallContext, ToolServerSpec } from '../../src/policy/index.ts';

export const RUN = { runSteps: 1, runCostNanoUsd: 0, runDepth: 0, hourUtc: 12 } as const;

export function tool(agent: string, resource: string, input: Record<string, unknown> = {}, run: Partial<ToolCallContext> = {}): DecisionRequest {
  return { agent, action: 'callTool', resource, context: { ...RUN, input, ...run } };
}

export function model(agent: string, resource: string, ctx: Partial<ModelCallContext> = {}): DecisionRequest {
  return { agent, action: 'invokeModel', resource, context: { ...RUN, maxTokens: 256, stream: false, ...ctx } };
}

/** The tool servers most tests use, with typed arguments where a policy reads them. */
export const SERVERS: ToolServerSpec[] = [
  {
    name: 'demo',
    tools: [
      { name: 'search' },
      { name: 'read_file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
      { name: 'write_file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
      {
        name: 'send_email',
        inputSchema: {
          type: 'object',
          properties: { to: { type: 'string' }, cc: { type: 'array', items: { type: 'string' } }, subject: { type: 'string' } },
          required: ['to'],
        },
      },
    ],
  },
  {
    name: 'payments',
    tools: [{ name: 'process_refund', inputSchema: { type: 'object', properties: { amount: { type: 'integer' }, fee: { type: 'number' } } } }],
  },
];

export const MODELS = [
  { name: 'sim-small', provider: 'sim' },
  { name: 'sim-large', provider: 'sim' },
  { name: 'gpt-4o-mini', provider: 'openai' },
];

export function baseSpec(overrides: Partial<PolicySpec> = {}): PolicySpec {
  return { agents: [], models: MODELS, toolServers: SERVERS, ...overrides };
}

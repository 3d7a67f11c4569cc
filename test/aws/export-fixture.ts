import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ConfigInput, type FmguardConfig } from './helpers.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
export const SONNET = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
export const PROFILE = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

const GLOBAL = `
@id("global:no-account-deletion")
forbid (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"crm.delete_account");

@id("global:beta-no-sonnet")
forbid (principal in Fmguard::Tenant::"beta", action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"claude-sonnet");

@id("global:no-big-refunds")
forbid (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"crm.refund")
when { context.input has amount && context.input.amount > 1000 };
`;

const SUPPORT = `
@id("refund-cap")
forbid (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"crm.refund")
when { context.input has amount && context.input.amount > 100 };

@id("notes-need-approval")
@approval("required")
permit (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"crm.notes");
`;

/** A deployment with every case the export must handle; policy files go to a fresh folder. */
export function exportConfigInput(dir = mkdtempSync(join(tmpdir(), 'fmguard-export-'))): { input: ConfigInput; dir: string } {
  writeFileSync(join(dir, 'global.cedar'), GLOBAL);
  writeFileSync(join(dir, 'support.cedar'), SUPPORT);
  const input: ConfigInput = {
    store: { kind: 'memory' },
    providers: { aws: { kind: 'bedrock', region: REGION }, oai: { kind: 'openai', baseUrl: 'https://api.openai.com/v1' } },
    models: {
      'claude-haiku': { provider: 'aws', upstreamModel: HAIKU, inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08 },
      'claude-profile': { provider: 'aws', upstreamModel: PROFILE, inputPerMTok: 3, outputPerMTok: 15 },
      'claude-sonnet': { provider: 'aws', upstreamModel: SONNET, inputPerMTok: 3, outputPerMTok: 15 },
      gpt: { provider: 'oai', upstreamModel: 'gpt-4o-mini', inputPerMTok: 0.15, outputPerMTok: 0.6 },
    },
    toolServers: {
      crm: {
        kind: 'http',
        url: 'https://crm.example/mcp',
        tools: {
          lookup_customer: {
            description: 'Find a customer',
            inputSchema: { type: 'object', properties: { email: { type: 'string' } } },
            timeoutMs: '10s',
            aws: { lambda: fn('crm-lookup') },
            // A read: safe to repeat, so it may be retried (a tool without both is never retried).
            idempotent: true,
            retry: [
              { errorEquals: ['rate.limited'], intervalMs: 2000, backoffRate: 2, maxAttempts: 4, maxDelayMs: 20000, jitter: 'full' },
              { errorEquals: ['upstream.error', 'timeout.*'], intervalMs: 500, maxAttempts: 2 },
            ],
          },
          refund: {
            inputSchema: { type: 'object', properties: { order: { type: 'string' }, amount: { type: 'integer' } } },
            timeoutMs: '20s',
            aws: { lambda: { functionName: 'crm-refund', code: './lambda/refund', runtime: 'nodejs20.x', handler: 'index.handler', memorySize: 256 } },
          },
          notes: { inputSchema: { type: 'object', properties: { text: { type: 'string' } } }, aws: { lambda: fn('crm-notes') } },
          export_all: { aws: { lambda: fn('crm-export-all') } },
          delete_account: { aws: { lambda: fn('crm-delete-account') } },
        },
      },
      kb: {
        kind: 'http',
        url: 'https://kb.example/mcp',
        aws: { lambda: fn('kb-tools') },
        tools: { search: { inputSchema: { type: 'object', properties: { q: { type: 'string' } } } }, purge: {} },
      },
      local: { kind: 'stdio', command: 'local-tools', tools: { grep: {} } },
    },
    tenants: { acme: {}, beta: {} },
    agents: {
      'support-bot': {
        tenant: 'acme',
        limits: { maxSteps: 12, maxCostUsd: 0.25, maxDurationMs: '2m' },
        timeouts: { model: { totalMs: '45s' }, tool: { totalMs: '15s' } },
        retry: [
          { errorEquals: ['rate.limited'], intervalMs: 2000, backoffRate: 2, maxAttempts: 4, maxDelayMs: 20000, jitter: 'full' },
          { errorEquals: ['upstream.error', 'timeout.*'], intervalMs: 500, maxAttempts: 2 },
        ],
        allow: { models: ['claude-haiku', 'claude-profile', 'gpt'], tools: ['crm.lookup_customer', 'crm.refund', 'crm.notes', 'kb.search', 'local.grep'] },
        deny: { tools: ['crm.export_all', 'kb.purge'] },
        policies: 'support.cedar',
      },
      analyst: {
        tenant: 'acme',
        allow: { models: ['*'], tools: ['crm.*'] },
      },
      intern: {
        tenant: 'beta',
        allow: { models: ['claude-haiku', 'claude-sonnet'], tools: [] },
      },
    },
    policies: { global: 'global.cedar' },
    metrics: { emf: { path: '-', namespace: 'fmguard/prod' } },
    alarms: [
      {
        name: 'support-error-rate',
        scope: 'agent:support-bot',
        metric: 'error_rate',
        period: '60s',
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparison: 'GreaterThanThreshold',
        threshold: 0.2,
        treatMissingData: 'notBreaching',
        actions: [{ openBreaker: {} }],
      },
      {
        name: 'bedrock-p99',
        scope: 'provider:aws',
        metric: 'latency_ms',
        statistic: 'p99',
        period: '60s',
        evaluationPeriods: 3,
        comparison: 'GreaterThanOrEqualToThreshold',
        threshold: 20000,
      },
      {
        name: 'spend',
        scope: 'global',
        metric: 'cost_usd',
        statistic: 'Sum',
        period: '300s',
        evaluationPeriods: 2,
        datapointsToAlarm: 1,
        comparison: 'GreaterThanThreshold',
        threshold: 10,
        treatMissingData: 'ignore',
      },
      {
        name: 'refusals-cost',
        scope: 'tenant:acme',
        metric: 'refusals:limit.cost',
        period: '60s',
        evaluationPeriods: 1,
        comparison: 'GreaterThanThreshold',
        threshold: 0,
      },
      { name: 'both', rule: 'ALARM(support-error-rate) AND NOT OK("bedrock-p99")', actions: [{ kill: { scope: 'agent:support-bot' } }] },
    ] as never,
  };
  return { input, dir };
}

export function exportConfig(): { config: FmguardConfig; dir: string } {
  const { input, dir } = exportConfigInput();
  return { config: parseConfig(input, { baseDir: dir }), dir };
}

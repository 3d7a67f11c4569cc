/**
 * Every import of an existing fmguard module that the AWS tests need, in one place (the source tree
 * is being re-laid out; after the move only this file changes).
 */
import OpenAI from 'openai';
import { createGuard, loadConfigFile, parseConfig, type ConfigInput, type FmguardConfig, type GuardEvent } from '../../src/index.ts';
import { createGateway, type Gateway } from '../../src/wiring/gateway.ts';
import { createAuditLog } from '../../src/audit/index.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/index.ts';
import type { StoredEvent } from '../../src/store/audit.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createSimModel, type SimModel, type SimModelOptions } from '../../src/providers/simulated/sim-model.ts';
import { costNano } from '../../src/core/pricing.ts';
import { nanoToUsd } from '../../src/core/money.ts';
import { inputTokenUpperBound } from '../../src/core/token-estimate.ts';
import type { ChatRequest, ChatResponse } from '../../src/core/chat.ts';
import type { CallEvent } from '../../src/metrics/index.ts';
import { BASE_METRICS, SCOPE_KINDS, isMetricName } from '../../src/metrics/index.ts';
import { parsePrometheusText } from '../metrics/prom-parser.ts';
import { compileRetryPolicy, type Retrier } from '../../src/core/retry.ts';
import type { StopCode } from '../../src/core/codes.ts';

export {
  createGuard,
  loadConfigFile,
  parseConfig,
  createGateway,
  createSimModel,
  FakeClock,
  costNano,
  nanoToUsd,
  inputTokenUpperBound,
  BASE_METRICS,
  SCOPE_KINDS,
  isMetricName,
  parsePrometheusText,
  compileRetryPolicy,
};
export type {
  Retrier,
  StopCode,
  ConfigInput,
  FmguardConfig,
  GuardEvent,
  Gateway,
  SimModel,
  SimModelOptions,
  StoredEvent,
  ChatRequest,
  ChatResponse,
  CallEvent,
};

export const BOT_KEY = 'sk-test-aws-bot-0001';

/** Static fake credentials: the SDK signs with them (SigV4); the local Bedrock does not verify. */
export function useFakeAwsCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFMGUARDTEST00001';
  process.env.AWS_SECRET_ACCESS_KEY = 'fmguard-test-secret-key-not-real-000000000';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

export interface BedrockGateway {
  guard: ReturnType<typeof createGuard>;
  gateway: Gateway;
  url: string;
  audit: ReturnType<typeof createMemoryAuditSink>;
  events: GuardEvent[];
  client(options?: { maxRetries?: number }): OpenAI;
  close(): Promise<void>;
}

/** A real gateway on a loopback port over a guard whose `bedrock` provider points at `endpoint`. */
export async function startBedrockGateway(config: ConfigInput): Promise<BedrockGateway> {
  const audit = createMemoryAuditSink();
  const guard = createGuard({ config, audit: createAuditLog({ sink: audit }) });
  const events: GuardEvent[] = [];
  guard.on((event) => events.push(event));
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  return {
    guard,
    gateway,
    url,
    audit,
    events,
    client: ({ maxRetries = 0 } = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: BOT_KEY, maxRetries }),
    async close() {
      await gateway.close(100);
      await guard.close();
    },
  };
}

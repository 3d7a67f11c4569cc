import { z } from 'zod';
import { parseDuration } from './duration.ts';

/**
 * The one configuration schema (README "Configuration"). Files (YAML/JSON) and SDK objects are
 * validated by it; every error names its path. Objects are strict, so a misspelt key is an error,
 * not a silently ignored limit.
 */

const positiveInt = z.number({ error: 'expected a positive integer' }).int('expected a positive integer').positive('expected a positive integer');
const nonNegativeInt = z.number({ error: 'expected a non-negative integer' }).int('expected a non-negative integer').min(0, 'expected a non-negative integer');
const usd = z.number({ error: 'expected an amount in USD' }).finite().min(0, 'expected an amount in USD >= 0');
const price = z.number({ error: 'expected a price in USD per million tokens' }).finite().min(0, 'expected a price in USD per million tokens >= 0');
const fraction = z
  .number({ error: 'expected a fraction between 0 and 1' })
  .gt(0, 'expected a fraction between 0 and 1')
  .max(1, 'expected a fraction between 0 and 1');

/** Milliseconds as a number, or a string such as `500ms`, `30s`, `5m`, `2h`. */
const duration = z.union([z.number(), z.string()], { error: 'expected a duration (milliseconds, or a string such as "30s")' }).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a positive duration (milliseconds, or a string such as "30s")' });
    return z.NEVER;
  }
  return ms;
});

/** A wait on the store: a timer longer than 2^31-1 ms would fire at once, and no call should wait minutes. */
const storeWait = duration.refine((ms) => ms <= 600_000, 'expected at most 10m');

const name = z.string({ error: 'expected a name' }).min(1, 'expected a non-empty name');

export const limitsSchema = z.strictObject({
  maxSteps: positiveInt.optional(),
  maxToolCalls: positiveInt.optional(),
  maxToolCallsPerTool: z.union([positiveInt, z.record(z.string(), positiveInt)]).optional(),
  maxInputTokens: positiveInt.optional(),
  maxOutputTokens: positiveInt.optional(),
  maxTotalTokens: positiveInt.optional(),
  maxCostUsd: usd.optional(),
  maxDurationMs: duration.optional(),
  maxDepth: nonNegativeInt.optional(),
  maxOutputTokensPerCall: positiveInt.optional(),
  maxIdenticalToolCalls: positiveInt.optional(),
  maxConsecutiveErrors: positiveInt.optional(),
  maxIdenticalOutputs: positiveInt.optional(),
});

const modelTimeoutsSchema = z.strictObject({
  totalMs: duration.optional(),
  firstTokenMs: duration.optional(),
  idleMs: duration.optional(),
});

const timeoutsSchema = z.strictObject({
  model: modelTimeoutsSchema.optional(),
  tool: z.strictObject({ totalMs: duration.optional() }).optional(),
});

/**
 * Retriers are validated by core/retry.ts (Step Functions rules: shape, ordering, the `all`
 * wildcard), which reports every problem with its path; the schema only carries them through.
 */
export const retrierSchema = z.record(z.string(), z.unknown(), { error: 'expected a retrier object' });

/** Catchers are validated by core/catch.ts (Step Functions `Catch` rules) with their paths; the schema carries them through. */
export const catcherSchema = z
  .record(z.string(), z.unknown(), { error: 'expected a catcher object' })
  .describe(
    "A catcher: `{ errorEquals: [codes, 'timeout.*' or 'all'], next }`. After the retriers are exhausted the first matching catcher routes the call to `next`",
  );

const retryBudgetSchema = z.strictObject({
  ratio: z.number({ error: 'expected a ratio >= 0' }).min(0).optional(),
  windowMs: duration.optional(),
  minRetries: nonNegativeInt.optional(),
});

export const budgetSchema = z.strictObject({
  period: z.enum(['day', 'month'], { error: 'expected "day" or "month"' }),
  maxCostUsd: usd,
  alertAt: z.array(fraction).optional(),
});

const approvalsSchema = z.strictObject({
  /** How long a request stays open, for the decision and for its single use. */
  ttlMs: duration.optional(),
  /** How long a guarded tool call waits for the decision; 0 fails at once with `approval.required`. */
  waitMs: z.union([z.literal(0), duration]).optional(),
});

const breakerPolicySchema = z.strictObject({
  failureThreshold: nonNegativeInt.optional(),
  cooldownMs: duration.optional(),
  halfOpenProbes: positiveInt.optional(),
  backoffFactor: z.number().min(1, 'expected a number >= 1').optional(),
  maxCooldownMs: duration.optional(),
  probeLeaseMs: duration.optional(),
});

export const rateLimitsSchema = z.strictObject({
  requestsPerMinute: positiveInt.optional(),
  tokensPerMinute: positiveInt.optional(),
});

const accessListSchema = z.strictObject({
  models: z.array(z.string()).optional(),
  tools: z.array(z.string()).optional(),
});

const keySchema = z.union([
  z.string({ error: 'expected an API key string' }).min(8, 'expected an API key of at least 8 characters'),
  z.strictObject({
    key: z.string({ error: 'expected an API key string' }).min(8, 'expected an API key of at least 8 characters'),
    name: name.optional(),
    budgets: z.array(budgetSchema).optional(),
    rateLimits: rateLimitsSchema.optional(),
  }),
]);

const agentSchema = z.strictObject({
  tenant: name,
  keys: z.array(keySchema).optional(),
  limits: limitsSchema.optional(),
  timeouts: timeoutsSchema.optional(),
  retry: z.array(retrierSchema).optional(),
  budgets: z.array(budgetSchema).optional(),
  rateLimits: rateLimitsSchema.optional(),
  allow: accessListSchema.optional(),
  deny: accessListSchema.optional(),
  approve: accessListSchema.optional(),
  policies: z.union([z.string(), z.array(z.string())]).optional(),
  policyMode: z.enum(['enforce', 'shadow']).optional(),
  approvals: approvalsSchema.optional(),
  /** Tool-argument fields masked in the audit log (bare names or dotted paths). */
  redactFields: z.array(z.string()).optional(),
  /** Reserved concurrency: model and tool calls of this agent in flight at once, across replicas (0 = throttled). */
  maxConcurrentCalls: nonNegativeInt.optional(),
  /**
   * Agents (of the same tenant) that may start sub-runs under this agent's runs
   * (`x-fmguard-parent-run: <run>@<this agent>`): their usage then counts against this agent's run.
   */
  delegatesTo: z.array(name).optional(),
});

const tenantSchema = z.strictObject({
  budgets: z.array(budgetSchema).optional(),
  rateLimits: rateLimitsSchema.optional(),
  /** Reserved concurrency: calls of all the tenant's agents in flight at once, across replicas (0 = throttled). */
  maxConcurrentCalls: nonNegativeInt.optional(),
});

const providerSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('simulated'),
      scenario: z.string().optional(),
      seed: z.number().int().optional(),
      tokensPerSecond: z.number().min(0).optional(),
      firstTokenMs: z.number().min(0).optional(),
      failRate: z.number().min(0).max(1).optional(),
    }),
    z.strictObject({
      kind: z.literal('openai'),
      baseUrl: z.url({ error: 'expected a URL' }),
      apiKey: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      /** The upstream serves the Responses API: `/v1/responses` requests are passed through to it. */
      responses: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('anthropic'),
      baseUrl: z.url({ error: 'expected a URL' }).optional(),
      apiKey: z.string().optional(),
      version: z.string().optional(),
    }),
    /** Amazon Bedrock (Converse API); credentials come from the standard AWS provider chain. */
    z.strictObject({
      kind: z.literal('bedrock'),
      /** AWS Region; default the SDK's (AWS_REGION, the shared config file). */
      region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS Region such as us-east-1')
        .optional(),
      /** Another endpoint than Bedrock Runtime's regional one (a VPC endpoint, a local test server). */
      endpoint: z.url({ error: 'expected a URL' }).optional(),
      /** A named profile of the shared AWS config and credentials files. */
      profile: z.string().min(1).optional(),
    }),
  ],
  { error: 'expected a provider with kind "simulated", "openai", "anthropic" or "bedrock"' },
);

const modelSchema = z.strictObject({
  provider: name,
  /** The model name sent upstream, when it differs from the name agents use. */
  upstreamModel: z.string().optional(),
  inputPerMTok: price
    .optional()
    .describe('USD per million input tokens. Default for openai, anthropic and bedrock models: the @pydantic/genai-prices catalogue; required otherwise'),
  outputPerMTok: price
    .optional()
    .describe('USD per million output tokens. Default for openai, anthropic and bedrock models: the @pydantic/genai-prices catalogue; required otherwise'),
  cachedInputPerMTok: price.optional().describe('USD per million cached input tokens (default: the catalogue, else the input price)'),
  maxOutputTokens: positiveInt.optional(),
  fallbacks: z.array(name).optional(),
  rateLimits: rateLimitsSchema.optional(),
  catch: z
    .array(catcherSchema)
    .optional()
    .describe(
      "Step Functions Catch: after this model's retries are exhausted, the first catcher whose errorEquals matches (upstream.error, timeout.*, rate.limited, breaker.open or 'all', last and alone) calls the model `next` instead, through the full admission",
    ),
});

const storeSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('memory') }),
    z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1) }),
    z
      .strictObject({
        kind: z.literal('redis'),
        url: z.string().min(1),
        prefix: z.string().optional(),
        connectTimeoutMs: storeWait.optional(),
        commandTimeoutMs: storeWait.optional(),
        cluster: z
          .array(z.string().min(1))
          .optional()
          .describe('Redis Cluster: more seed node URLs besides url (may be empty); every key then carries the prefix hash tag (default {fmguard}:)'),
      })
      .refine((s) => s.cluster === undefined || s.prefix === undefined || /^[^{]*\{[^}]+\}/.test(s.prefix), {
        message: 'in a Redis Cluster the prefix must contain a hash tag, such as "{fmguard}:"',
        path: ['prefix'],
      }),
  ],
  { error: 'expected a store with kind "memory", "sqlite" or "redis"' },
);

const lambdaArn = z
  .string({ error: 'expected a Lambda function ARN' })
  .regex(
    /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/,
    'expected a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)',
  );

/**
 * Where a tool runs on AWS, for `fmguard export aws`: an existing Lambda function (its ARN), or one
 * the exported stack creates (then its timeout and reserved concurrency are part of the stack).
 */
const awsToolSchema = z.strictObject({
  lambda: z.union(
    [
      lambdaArn,
      z.strictObject({
        functionName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a Lambda function name (letters, digits, - and _)'),
        /** A local folder or zip (for `aws cloudformation package`), or s3://bucket/key. */
        code: z.string().min(1),
        runtime: z.string().min(1),
        handler: z.string().min(1),
        memorySize: z.number().int().min(128).max(10_240).optional(),
      }),
    ],
    { error: 'expected a Lambda function ARN, or { functionName, code, runtime, handler }' },
  ),
});

/** Tools a server offers, when known up front: their input schemas let policies test arguments. */
const toolsSchema = z.record(
  z.string(),
  z.strictObject({
    description: z.string().optional(),
    inputSchema: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }).optional(),
    timeoutMs: duration.optional(),
    aws: awsToolSchema.optional(),
    /** Retriers for this tool (Step Functions rules); only with `idempotent: true`. Default: never retried. */
    retry: z.array(retrierSchema).optional(),
    /** The tool is safe to repeat (no side effect a second call would duplicate): required for `retry`. */
    idempotent: z.boolean().optional(),
    catch: z
      .array(catcherSchema)
      .optional()
      .describe(
        "Step Functions Catch: after this tool's retries are exhausted, the first catcher whose errorEquals matches calls the fallback tool `next` (`server.tool`) with the same arguments, through the full admission",
      ),
  }),
);

/** A tool server's defaults for every tool it offers (declared or discovered): `retry` needs `idempotent: true`. */
const toolRetryDefaults = {
  retry: z.array(retrierSchema).optional(),
  idempotent: z.boolean().optional(),
};

const toolServerSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('builtin'), tools: toolsSchema.optional(), aws: awsToolSchema.optional(), ...toolRetryDefaults }),
    z.strictObject({
      kind: z.literal('http'),
      url: z.url({ error: 'expected a URL' }),
      headers: z.record(z.string(), z.string()).optional(),
      tools: toolsSchema.optional(),
      aws: awsToolSchema.optional(),
      ...toolRetryDefaults,
    }),
    z.strictObject({
      kind: z.literal('stdio'),
      command: z.string().min(1),
      args: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      tools: toolsSchema.optional(),
      aws: awsToolSchema.optional(),
      ...toolRetryDefaults,
    }),
  ],
  { error: 'expected a tool server with kind "builtin", "http" or "stdio"' },
);

const auditSchema = z.strictObject({
  sink: z.enum(['sqlite', 'jsonl', 'memory', 'postgres', 'none']).optional(),
  path: z.string().optional(),
  url: z.string().optional(),
  /** This replica's chain name in a shared Postgres audit table (default: host name and pid). */
  replica: z.string().optional(),
  redactFields: z.array(z.string()).optional(),
  /** Group commit: events recorded within this many ms are written in one batch (0: each tick). */
  flushMs: nonNegativeInt.optional(),
  /** At most this many events per batch. */
  maxBatch: positiveInt.optional(),
  /** Events held in memory while a local sink fails, before `onSpoolFull` applies. */
  maxPending: positiveInt.optional(),
  /** When the events waiting for the sink reach their bound: refuse calls, or drop events with a gap record. */
  onSpoolFull: z.enum(['fail-closed', 'drop'], { error: 'expected "fail-closed" or "drop"' }).optional(),
  /** The local durable queue in front of the postgres sink. */
  spool: z
    .strictObject({
      path: z.string().min(1).optional(),
      maxEvents: positiveInt.optional(),
      maxBytes: positiveInt.optional(),
    })
    .optional(),
  /** HMAC-SHA256 key for anchors and checkpoints (default: the FMGUARD_AUDIT_KEY environment variable). */
  key: z.string().optional(),
  /** Signed chain heads appended to a file outside the store. */
  anchor: z
    .strictObject({
      path: z.string().min(1, 'expected a file path'),
      everyMs: duration.optional(),
    })
    .optional(),
  /** Prune audit events older than `maxAge`, leaving a signed checkpoint. */
  retention: z
    .strictObject({
      maxAge: duration,
      everyMs: duration.optional(),
    })
    .optional(),
});

export const configSchema = z.strictObject({
  store: storeSchema.optional(),
  defaults: z
    .strictObject({
      limits: limitsSchema.optional(),
      timeouts: timeoutsSchema.optional(),
      retry: z.array(retrierSchema).optional(),
      retryBudget: retryBudgetSchema.optional(),
      reservationTtlMs: duration.optional(),
      maxRetryAfterMs: duration.optional(),
      runIdleTtlMs: z
        .union([z.literal(0), duration])
        .optional()
        .describe(
          'A run whose owner sent nothing for this long is ended with stop code run.idle by the idle sweeper (default 30m; 0: never). A run held by a process that is gone is ended once its deadline has passed',
        ),
      runIdleSweepMs: duration.optional().describe('How often the idle sweeper looks (default 1m)'),
      approvals: approvalsSchema.optional(),
    })
    .optional(),
  providers: z.record(name, providerSchema).optional(),
  models: z.record(name, modelSchema).optional(),
  toolServers: z.record(name, toolServerSchema).optional(),
  tenants: z.record(name, tenantSchema).optional(),
  agents: z.record(name, agentSchema).optional(),
  policies: z.strictObject({ global: z.union([z.string(), z.array(z.string())]).optional() }).optional(),
  /**
   * The org's allow ceiling (an SCP's role): what any agent may ever be allowed, as allow-list patterns.
   * An agent's permit outside it is not effective: effective = agent allows ∩ ceiling − forbids.
   * A kind left out is not limited.
   */
  ceiling: accessListSchema.optional(),
  /** Alarm specs (metric alarms and composites); validated in depth by the alarm module. */
  alarms: z.array(z.record(z.string(), z.unknown()), { error: 'expected a list of alarms' }).optional(),
  /** Breaker policy for every provider, model and tool server, with per-scope (`provider:x`) or per-kind (`tool:*`) overrides. */
  breakers: z
    .strictObject({
      defaults: breakerPolicySchema.optional(),
      overrides: z.record(z.string(), breakerPolicySchema).optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      resolutionMs: duration.optional(),
      retentionMs: duration.optional(),
      /** CloudWatch Embedded Metric Format: one JSON line per call, to a file or `-` (stdout). */
      emf: z
        .strictObject({
          path: z.string().min(1, 'expected a file path, or "-" for stdout'),
          namespace: z
            .string()
            .regex(/^[^:][^\s]{0,254}$/, 'expected a CloudWatch namespace (1-255 characters, no spaces, not starting with ":")')
            .optional(),
        })
        .optional(),
    })
    .optional(),
  audit: auditSchema.optional(),
  /** Runs and their ledger detail pruned by age (ended runs only; totals kept exact). Audit events: `audit.retention`. */
  retention: z
    .strictObject({
      runs: z.strictObject({ maxAge: duration }).optional(),
      ledger: z.strictObject({ maxAge: duration }).optional(),
      everyMs: duration.optional(),
    })
    .optional(),
  server: z
    .strictObject({
      host: z.string().optional(),
      port: z.number().int().min(0).max(65535).optional(),
      adminToken: z.string().optional(),
      /** When set, `GET /metrics` requires `Authorization: Bearer <metricsToken>` (401 `auth.invalid` otherwise). */
      metricsToken: z.string().min(1, 'expected a non-empty token').optional(),
      /** On SIGTERM, requests in flight get this long to finish before they are answered with `gateway.shutting_down`. */
      shutdownGraceMs: duration.optional(),
      maxBodyBytes: positiveInt.optional(),
      /** A forbidden or looping tool call in a model's response: refuse the response, or strip the call. */
      toolCallViolation: z.enum(['refuse', 'strip']).optional(),
      /** A client's request headers must arrive within this (default 10 s); slower ones are cut with 408. */
      headersTimeoutMs: duration.optional(),
      /** The whole request, body included, must arrive within this (default 60 s); slower ones are cut with 408. */
      requestTimeoutMs: duration.optional(),
      /** Open client connections at most (default 10,000); one more is answered 503 `rate.limited` and closed. */
      maxConnections: positiveInt.optional(),
      /** MCP sessions one agent may hold at once (default 100); one more is refused 429 `rate.limited`. */
      mcpSessionsPerAgent: positiveInt.optional(),
      /** An MCP session without requests for this long is closed (default 30 min). */
      mcpSessionIdleMs: duration.optional(),
      accessLog: z
        .strictObject({
          level: z
            .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
              error: 'expected a pino level: trace, debug, info, warn, error, fatal or silent',
            })
            .optional()
            .describe('Lowest level written (default info). Lines are info, 5xx answers warn'),
          destination: z
            .string()
            .min(1, 'expected stdout, stderr, off or a file path')
            .optional()
            .describe('stdout (the default for `fmguard serve`), stderr, off, or a file path (appended to)'),
        })
        .optional()
        .describe(
          'The access log: one JSON line per HTTP request (time, requestId, agent, tenant, run, route, model or tool, status, stopCode, latencyMs, costUsd); never a key, prompt or tool arguments',
        ),
    })
    .optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type LimitsInput = z.output<typeof limitsSchema>;
export type { Retrier as RetrierConfig } from '../core/retry.ts';
export type BudgetConfig = z.output<typeof budgetSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type RateLimitsConfig = z.output<typeof rateLimitsSchema>;
export type AwsToolConfig = z.output<typeof awsToolSchema>;
export type ToolServerConfig = z.output<typeof toolServerSchema>;

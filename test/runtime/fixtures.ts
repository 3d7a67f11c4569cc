import { expect } from 'vitest';
import { type AuditLog, createAuditLog } from '../../src/audit/index.ts';
import { createMemoryAuditSink, type MemoryAuditSink } from '../../src/backends/memory/audit.ts';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { GuardError } from '../../src/core/errors.ts';
import type { AuthorizeDecision, AuthorizeRequest, Authorizer } from '../../src/runtime/context.ts';

/** A small config on the simulated provider; override per test. */
export function baseConfig(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
    },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'], tools: ['*'] }, ...agent } as never },
    defaults: { retry: [] },
    ...extra,
  } as ConfigInput;
}

export function ask(text: string, model = 'sim-small') {
  return { model, messages: [{ role: 'user' as const, content: text }] };
}

/** Denies the resources in `deny`, asks approval for `approval`, allows the rest; records every request. */
export function recordingAuthorizer(deny: string[] = [], approval: string[] = []) {
  const requests: AuthorizeRequest[] = [];
  const authorizer: Authorizer = {
    authorize(request): AuthorizeDecision {
      requests.push(request);
      if (deny.includes(request.resource)) return { effect: 'deny', policies: [`no-${request.resource}`] };
      if (approval.includes(request.resource)) return { effect: 'approval', policies: ['needs-ok'] };
      return { effect: 'allow', policies: ['allow-all'] };
    },
  };
  return { authorizer, requests };
}

/** A memory store and an audit log on a memory sink, closed by the `open` list's owner. */
export function memoryStoreAndAudit(open: Array<() => Promise<void>>) {
  const store = createMemoryStore();
  const sink = createMemoryAuditSink();
  const audit = createAuditLog({ sink });
  open.push(
    () => store.close(),
    () => audit.close(),
  );
  return { store, sink, audit };
}

/** The audit events as recorded, without the chain's and the writer's numbering. */
export async function auditEvents(audit: AuditLog, sink: MemoryAuditSink) {
  await audit.flush();
  return sink.events.map(({ seq: _s, prevHash: _p, hash: _h, writer: _w, wseq: _q, ...event }) => event);
}

/** The GuardError a promise rejects with: its code, message and details (fails if it resolves). */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as GuardError | undefined;
  expect(error).toBeDefined();
  return { code: error!.code, message: error!.message, details: error!.details };
}

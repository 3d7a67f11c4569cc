import OpenAI from 'openai';

/** Where the demo's agents send their calls, and how to reach the admin API there. */
export interface DemoTarget {
  /** The gateway, e.g. http://127.0.0.1:8787 (the OpenAI base URL is `${url}/v1`). */
  url: string;
  /** The agent key the scenarios use. */
  key: string;
  /** The key for the budget race's agent (default: `key`). */
  raceKey?: string;
  /** The admin token; without it the killed-run scenario is skipped and usage comes from response headers. */
  adminToken?: string;
}

export interface RequestCounter {
  requests: number;
}

/** The official client for one run: every request carries the run id; `counter` sees the client's own retries. */
export function agentClient(target: DemoTarget, runId: string, options: { key?: string; counter?: RequestCounter } = {}): OpenAI {
  const counter = options.counter;
  return new OpenAI({
    baseURL: `${target.url}/v1`,
    apiKey: options.key ?? target.key,
    defaultHeaders: { 'x-fmguard-run': runId },
    // The client's default retries stay on: the gateway's x-should-retry decides whether they happen.
    maxRetries: 2,
    timeout: 30_000,
    fetch: counter
      ? (input, init) => {
          counter.requests++;
          return fetch(input, init);
        }
      : undefined,
  });
}

/** Call the admin API; undefined without a token or on any failure (the demo degrades, it does not fail). */
export async function adminCall<T>(target: DemoTarget, method: string, path: string, body?: unknown): Promise<T | undefined> {
  if (!target.adminToken) return undefined;
  try {
    const res = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) return undefined;
    return (await res.json()) as T;
  } catch {
    return undefined;
  }
}

export interface RunUsageView {
  steps: number;
  outputTokens: number;
  costUsd: number;
}

/** A run's usage from the admin API. */
export async function runUsage(target: DemoTarget, runId: string): Promise<RunUsageView | undefined> {
  const found = await adminCall<{ usage: RunUsageView }>(target, 'GET', `/admin/runs/${encodeURIComponent(runId)}`);
  return found?.usage;
}

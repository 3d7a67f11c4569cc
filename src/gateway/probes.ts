import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, sameSecret } from '../http/auth.ts';
import type { GatewayContext } from './context.ts';
import { httpFailure, isHttpFailure } from '../http/error-response.ts';
import { sendJson } from '../http/send-json.ts';
import { auditMetricsText, auditReadiness } from '../audit/index.ts';
import { policyMetricsText } from '../policy/index.ts';

/** `GET /healthz`: the process answers. */
export function handleHealthz(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/**
 * `GET /readyz`: the store answers a read within the bound; otherwise `store.unavailable` (503). The
 * audit log's state is in the body: `degraded` (sink unreachable, events spooled) is still ready;
 * `refusing` (fail-closed at the spool's bound: calls are refused) is 503 `store.unavailable`.
 */
export async function handleReadyz(ctx: GatewayContext, res: ServerResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.readyTimeoutMs);
  });
  try {
    const outcome = await Promise.race([ctx.guard.store.kills.list().then(() => 'ok' as const), timedOut]);
    if (outcome === 'timeout') throw httpFailure(503, 'store.unavailable', `the store did not answer within ${ctx.readyTimeoutMs} ms`);
  } catch (error) {
    if (isHttpFailure(error)) throw error;
    throw httpFailure(503, 'store.unavailable', 'the store could not be read');
  } finally {
    clearTimeout(timer);
  }
  const audit = auditReadiness(ctx.guard.audit, ctx.guard.clock.now());
  if (audit?.state === 'refusing') {
    throw httpFailure(503, 'store.unavailable', `the audit log is full and fail-closed: calls are refused until it drains (${audit.waiting} events waiting)`);
  }
  sendJson(res, 200, { status: audit?.state === 'degraded' ? 'degraded' : 'ready', store: ctx.guard.store.kind, ...(audit ? { audit } : {}) });
}

type TextSource = () => string | Promise<string>;

/** The guard's Prometheus text, when metrics are wired in (`guard.metrics.prometheusText()` or `.prometheus()`). */
export function metricsSource(guard: object): TextSource | undefined {
  const metrics = (guard as { metrics?: Record<string, unknown> }).metrics;
  if (typeof metrics !== 'object' || metrics === null) return undefined;
  for (const name of ['prometheusText', 'prometheus']) {
    const fn = metrics[name];
    if (typeof fn === 'function') return () => fn.call(metrics) as string | Promise<string>;
  }
  return undefined;
}

/** `GET /metrics`: Prometheus text format 0.0.4 (behind `server.metricsToken` when set), or 404 while no metrics are wired in. */
export async function handleMetrics(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const token = ctx.guard.config.server.metricsToken;
  if (token !== undefined) {
    const given = bearerToken(req.headers.authorization);
    if (given === undefined || !sameSecret(given, Buffer.from(token))) {
      throw httpFailure(
        401,
        'auth.invalid',
        given === undefined ? 'missing metrics token (Authorization: Bearer <server.metricsToken>)' : 'unknown metrics token',
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
  }
  const source = metricsSource(ctx.guard);
  if (!source) throw httpFailure(404, 'request.invalid', 'metrics are not enabled on this gateway');
  const text = (await source()) + auditMetricsText(ctx.guard.audit) + policyMetricsText(ctx.guard.policy);
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

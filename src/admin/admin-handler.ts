import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Guard } from '../runtime/guard.ts';
import { answerThrown } from '../http/error-response.ts';
import { sendJson } from '../http/send-json.ts';
import { alarmRoutes } from './alarms.ts';
import { approvalRoutes } from './approvals.ts';
import { auditRoutes } from './audit.ts';
import { checkAdminToken } from './auth.ts';
import { breakerRoutes } from './breakers.ts';
import { budgetRoutes } from './budgets.ts';
import { configRoutes } from './config.ts';
import { keyRoutes } from './keys.ts';
import { killRoutes } from './kills.ts';
import { openApiDocument } from './openapi.ts';
import { queryOf } from './request.ts';
import { createRouter, type Route } from './router.ts';
import { runRoutes } from './runs.ts';
import { viewRoutes } from './view-routes.ts';

export interface AdminHandlerOptions {
  guard: Guard;
  /** The bearer token operators use (`server.adminToken`). Absent or empty: the admin API refuses everything. */
  adminToken?: string;
  /** Unexpected errors (answered as a 500 without details). */
  onError?: (error: unknown, where: { method: string; path: string }) => void;
}

export interface AdminHandler {
  /** Answer a request under `/admin`; false (nothing written) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/**
 * Every admin route: the table the router serves and `/admin/openapi.json` documents (a route added
 * here is in the document). The console's API (src/console) dispatches through it too, behind its session.
 */
export const adminRoutes: Route[] = [
  ...runRoutes,
  ...killRoutes,
  ...breakerRoutes,
  ...alarmRoutes,
  ...budgetRoutes,
  ...keyRoutes,
  ...approvalRoutes,
  ...auditRoutes,
  ...configRoutes,
  ...viewRoutes,
];
adminRoutes.push({ method: 'GET', pattern: 'openapi.json', handler: async () => ({ body: openApiDocument(adminRoutes) }) });

export const adminRoute = createRouter(adminRoutes);

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The admin API (runs, kill switches, breakers, alarms, budgets, minted keys, approvals, audit) on plain node:http,
 * behind its own bearer token. Errors use the gateway's OpenAI-shaped body and headers.
 */
export function createAdminHandler({ guard, adminToken, onError }: AdminHandlerOptions): AdminHandler {
  const expected = adminToken ? Buffer.from(adminToken) : undefined;
  return {
    async handle(req, res) {
      const path = pathOf(req.url ?? '/');
      if (path !== '/admin' && !path.startsWith('/admin/')) return false;
      const method = req.method ?? 'GET';
      try {
        // The token is checked before routing, so an unauthenticated caller learns nothing about routes.
        const denied = checkAdminToken(req, expected);
        if (denied) throw denied;
        const { handler, params } = adminRoute(method, path);
        const reply = await handler({ guard, req, params, query: queryOf(req.url) });
        if (reply.stream) reply.stream(res);
        else sendJson(res, reply.status ?? 200, reply.body, { 'cache-control': 'no-store' });
      } catch (error) {
        answerThrown(res, error, { method, path }, onError);
      }
      return true;
    },
  };
}

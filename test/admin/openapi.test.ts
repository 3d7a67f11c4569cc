import { afterEach, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/admin/admin-handler.ts';
import { openApiPath } from '../../src/admin/openapi.ts';
import { closeAll } from '../gateway/helpers.ts';
import { ADMIN_TOKEN, admin, startAdminGateway } from './helpers.ts';

afterEach(closeAll);

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { summary: string; parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: unknown }> } }>
  >;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every (method, path) the document names. */
function operations(doc: Doc): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

describe('GET /admin/openapi.json', () => {
  it('is served behind the admin token, as OpenAPI 3.1', async () => {
    const gw = await startAdminGateway();
    expect((await admin(gw, 'GET', '/admin/openapi.json', undefined, null)).status).toBe(401);
    const res = await admin(gw, 'GET', '/admin/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'fmguard admin API' },
      components: { securitySchemes: { adminToken: { scheme: 'bearer' } } },
    });
  });

  it('names every route of the router table, and nothing else', async () => {
    const gw = await startAdminGateway();
    const doc = (await admin(gw, 'GET', '/admin/openapi.json')).json as Doc;
    const table = adminRoutes.map((r) => `${r.method} ${openApiPath(r.pattern)}`).sort();
    expect(operations(doc).sort()).toEqual(table);
    expect(table.length).toBeGreaterThanOrEqual(30);
  });

  it('every documented operation is served by the real gateway (no 404 or 405 from the router), with its path parameters filled in', async () => {
    const gw = await startAdminGateway();
    const doc = (await admin(gw, 'GET', '/admin/openapi.json')).json as Doc;
    for (const op of operations(doc)) {
      const [method, template] = op.split(' ') as [string, string];
      const path = template.replace(/\{[^}]+\}/g, 'model:sim-small');
      if (path === '/admin/events') {
        // The event stream never ends: the headers are the answer.
        const controller = new AbortController();
        const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: controller.signal });
        expect(res.status, op).toBe(200);
        controller.abort();
        continue;
      }
      const res = await admin(gw, method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      const message = String(res.json?.error?.message ?? '');
      expect(message, op).not.toMatch(/^no admin route|is not allowed on/);
      expect(res.status, `${op}: ${message}`).not.toBe(405);
    }
  });

  it('documents request bodies with the schemas the handlers validate: what the schema refuses, the route refuses', async () => {
    const gw = await startAdminGateway();
    const doc = (await admin(gw, 'GET', '/admin/openapi.json')).json as Doc;
    const kill = doc.paths['/admin/kill']!.post!.requestBody!.content['application/json']!.schema as {
      properties: Record<string, { pattern?: string }>;
      required: string[];
    };
    expect(kill.required).toEqual(['scope']);
    expect(kill.properties.scope!.pattern).toBeDefined();
    const bad = await admin(gw, 'POST', '/admin/kill', { scope: 'everything' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^scope: expected global, tenant:<id>/);
    expect(new RegExp(kill.properties.scope!.pattern!).test('tenant:acme')).toBe(true);
    expect((await admin(gw, 'POST', '/admin/kill', { scope: 'tenant:acme', reason: 'test' })).status).toBe(200);

    const open = doc.paths['/admin/breakers/{scope}/open']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(open.properties).sort()).toEqual(['by', 'cooldownMs', 'reason']);
    expect((await admin(gw, 'POST', '/admin/breakers/model:sim-small/open', { cooldownMs: '5s' })).status).toBe(400);
    const runs = doc.paths['/admin/runs']!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    expect(runs).toEqual(['query:agent', 'query:tenant', 'query:status', 'query:limit']);
  });
});

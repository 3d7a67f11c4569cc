import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { ResolvedAgent } from '../config/resolve.ts';
import type { Guard } from '../runtime/guard.ts';
import type { Principal } from '../runtime/principal.ts';

/** Who is calling and in which run, resolved once per HTTP request. */
export interface Identity {
  key: string;
  agent: ResolvedAgent;
  keyId: string;
  /** The resolved key, handed to the run so it is not looked up twice. */
  principal: Principal;
  /** `x-fmguard-run`: the run the call belongs to. */
  runId?: string;
  /** `x-fmguard-parent-run`: makes a new run a sub-run of this one. */
  parentRunId?: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

export function bearerKey(req: IncomingMessage): string | undefined {
  const auth = header(req, 'authorization');
  const match = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return match?.[1];
}

/** The caller's identity; throws the guard's `auth.invalid` for a missing or unknown key. */
export async function identify(guard: Guard, req: IncomingMessage): Promise<Identity> {
  const key = bearerKey(req);
  const principal = await guard.principal(key);
  const { agent, keyId } = principal;
  return { key: key!, agent, keyId, principal, runId: header(req, 'x-fmguard-run'), parentRunId: header(req, 'x-fmguard-parent-run') };
}

/** The identity travels to the MCP request handlers as the SDK's AuthInfo. */
export function toAuthInfo(identity: Identity): AuthInfo {
  return { token: identity.key, clientId: identity.agent.name, scopes: [], extra: { fmguard: identity } };
}

export function fromAuthInfo(auth: AuthInfo | undefined): Identity | undefined {
  return auth?.extra?.fmguard as Identity | undefined;
}

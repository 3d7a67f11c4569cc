import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EmbeddingsRequest, parseEmbeddingsRequest } from '../core/wire/embeddings.ts';
import { bearerToken } from '../http/auth.ts';
import { sendFailure } from '../http/error-response.ts';
import type { GatewayContext } from './context.ts';
import { countersAfter, type ModelRoute, type RouteCall, sendResult, serveModelRoute } from './model-route.ts';

interface EmbeddingsCall {
  embeddings: EmbeddingsRequest;
  stream: false;
}

/**
 * `POST /v1/embeddings` (OpenAI's): the chat route's flow around the runtime's embeddings call, which
 * meters, prices, budgets and policy-checks it like a model call (runtime/call-embeddings.ts). The
 * upstream's JSON goes back as it came (floats or base64, as asked).
 */
const embeddingsRoute: ModelRoute<EmbeddingsCall> = {
  path: '/v1/embeddings',
  key: (req) => bearerToken(req.headers.authorization),
  parse: (body, hasModel) => ({ embeddings: parseEmbeddingsRequest(body, hasModel), stream: false }),
  answer: embed,
  sendFailure,
};

export function handleEmbeddings(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return serveModelRoute(ctx, req, res, embeddingsRoute);
}

async function embed(call: RouteCall<EmbeddingsCall>): Promise<void> {
  const result = await call.run.callEmbeddings(call.request.embeddings);
  if (call.client.gone) return;
  sendResult(call.res, result.response, call.run.id, await countersAfter(call, result.costUsd), result.servedBy);
}

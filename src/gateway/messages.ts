import type { IncomingMessage, ServerResponse } from 'node:http';
import { chatToMessage, type MessageEnvelope, MessagesEncoder } from '../core/wire/messages-output.ts';
import { parseMessagesRequest, type MessagesRequest } from '../core/wire/messages-request.ts';
import { bearerToken, singleHeader } from '../http/auth.ts';
import { anthropicErrorObject, sendAnthropicFailure } from './anthropic-errors.ts';
import type { GatewayContext } from './context.ts';
import { newId } from './ids.ts';
import { countersAfter, type ModelRoute, type RouteCall, sendResult, serveModelRoute } from './model-route.ts';
import { chatGate, namedEvents, relayStream } from './relay-stream.ts';
import { checkResponseToolCalls, hasToolCalls, toolCallCheck } from './tool-calls.ts';

/**
 * `POST /v1/messages`, the Anthropic Messages API: decided on its chat view
 * (core/wire/messages-request.ts) with the chat route's flow, limits and checks; `tool_use` blocks are
 * checked before they reach the agent. The key comes as `x-api-key` (Anthropic's) or a bearer token.
 * Errors use Anthropic's shape with fmguard's code in the body and the headers.
 */
export const messagesRoute: ModelRoute<MessagesRequest> = {
  path: '/v1/messages',
  key: (req) => singleHeader(req.headers['x-api-key'])?.trim() || bearerToken(req.headers.authorization),
  parse: parseMessagesRequest,
  answer: (call) => (call.request.stream ? streamMessage(call) : completeMessage(call)),
  sendFailure: sendAnthropicFailure,
};

export function handleMessages(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return serveModelRoute(ctx, req, res, messagesRoute);
}

function envelope(request: MessagesRequest): MessageEnvelope {
  return { id: newId('msg'), model: request.chat.model };
}

async function completeMessage(call: RouteCall<MessagesRequest>): Promise<void> {
  const { request, run } = call;
  const result = await run.callModel(request.chat);
  if (call.client.gone) return;
  if (hasToolCalls(result.response)) {
    const check = toolCallCheck(run, request.chat.messages);
    if (check) await checkResponseToolCalls(result.response, check, call.ctx.toolCallViolation, result.costUsd);
  }
  const body = chatToMessage(envelope(call.request), result.response, result.usage);
  sendResult(call.res, body, run.id, await countersAfter(call, result.costUsd), result.servedBy);
}

function streamMessage(call: RouteCall<MessagesRequest>): Promise<void> {
  const { request } = call;
  const encoder = new MessagesEncoder(envelope(request));
  return relayStream(call, request.chat, {}, () => ({
    encoder: {
      start: () => namedEvents(encoder.start()),
      chunk: (chunk) => namedEvents(encoder.chunk(chunk)),
      end: (result) => namedEvents(encoder.end(result?.usage)),
      fail: (error) => namedEvents(encoder.fail(anthropicErrorObject(error) as unknown as Record<string, unknown>)),
    },
    gate: chatGate(call, request.chat),
  }));
}

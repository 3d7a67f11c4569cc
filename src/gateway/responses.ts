import type { IncomingMessage, ServerResponse } from 'node:http';
import { ResponsesEncoder } from '../core/wire/responses-events.ts';
import { chatToResponse, type ResponseEnvelope } from '../core/wire/responses-output.ts';
import { parseResponsesRequest, type ResponsesRequest } from '../core/wire/responses-request.ts';
import { bearerToken } from '../http/auth.ts';
import { errorBody, sendFailure } from '../http/error-response.ts';
import type { GatewayContext } from './context.ts';
import { responseIds } from './ids.ts';
import { countersAfter, type ModelRoute, type RouteCall, sendResult, serveModelRoute } from './model-route.ts';
import { chatGate, namedEvents, relayStream, type StreamEncoder } from './relay-stream.ts';
import { checkNativeResponse, NativeResponsesEncoder, NativeResponsesGate } from './responses-native.ts';
import { checkResponseToolCalls, hasToolCalls, toolCallCheck } from './tool-calls.ts';

/**
 * `POST /v1/responses`, the OpenAI Responses API: the request is decided on its chat view
 * (core/wire/responses-request.ts) with the chat route's flow, limits and checks. An upstream that
 * serves the Responses API gets the body passed through and the agent its response as it came; any
 * other gets the chat view, and the agent a response object (or semantic events) built from the result.
 * Function calls are checked before they reach the agent in both cases. Errors use OpenAI's shape.
 */
const responsesRoute: ModelRoute<ResponsesRequest> = {
  path: '/v1/responses',
  key: (req) => bearerToken(req.headers.authorization),
  parse: parseResponsesRequest,
  answer: (call) => (call.request.stream ? streamResponse(call) : completeResponse(call)),
  sendFailure,
};

export function handleResponses(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return serveModelRoute(ctx, req, res, responsesRoute);
}

function envelope(request: ResponsesRequest): ResponseEnvelope {
  return { ids: responseIds(), createdAt: Math.floor(Date.now() / 1000), model: request.chat.model, request: request.body };
}

async function completeResponse(call: RouteCall<ResponsesRequest>): Promise<void> {
  const { request, run } = call;
  const result = await run.callModel(request.chat, { passthrough: { api: 'responses', body: request.body } });
  if (call.client.gone) return;
  const check = hasToolCalls(result.response) ? toolCallCheck(run, request.chat.messages) : undefined;
  let body: unknown;
  if (result.response.native !== undefined) {
    body = check ? await checkNativeResponse(result.response.native, check, call.ctx.toolCallViolation) : result.response.native;
  } else {
    if (check) await checkResponseToolCalls(result.response, check, call.ctx.toolCallViolation);
    body = chatToResponse(envelope(request), result.response, result.usage);
  }
  sendResult(call.res, body, run.id, await countersAfter(call, result.costUsd), result.servedBy);
}

function streamResponse(call: RouteCall<ResponsesRequest>): Promise<void> {
  const { request } = call;
  return relayStream(call, request.chat, { passthrough: { api: 'responses', body: request.body } }, (stream) => {
    if (stream.passedThrough) {
      const check = toolCallCheck(call.run, request.chat.messages);
      return { encoder: new NativeResponsesEncoder(), gate: check ? new NativeResponsesGate(check, call.ctx.toolCallViolation) : undefined };
    }
    return { encoder: translatedEncoder(new ResponsesEncoder(envelope(request))), gate: chatGate(call, request.chat) };
  });
}

function translatedEncoder(encoder: ResponsesEncoder): StreamEncoder {
  return {
    start: () => namedEvents(encoder.start()),
    chunk: (chunk) => namedEvents(encoder.chunk(chunk)),
    end: (result) => namedEvents(encoder.end(result?.usage)),
    fail: (error) => {
      const body = errorBody(error).error;
      return namedEvents(encoder.fail({ code: error.code, message: error.message, param: body.param, error: body as unknown as Record<string, unknown> }));
    },
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatRequest } from '../core/chat.ts';
import { bearerToken } from '../http/auth.ts';
import { sendFailure } from '../http/error-response.ts';
import { completeChat } from './complete-chat.ts';
import type { GatewayContext } from './context.ts';
import { type ModelRoute, serveModelRoute } from './model-route.ts';
import { streamChat } from './stream-chat.ts';
import { validateChatRequest } from './validate-chat.ts';

interface ChatCall {
  chat: ChatRequest;
  stream: boolean;
}

const chatRoute: ModelRoute<ChatCall> = {
  path: '/v1/chat/completions',
  key: (req) => bearerToken(req.headers.authorization),
  parse(body, hasModel) {
    const chat = validateChatRequest(body, hasModel);
    return { chat, stream: chat.stream === true };
  },
  answer: (call) => (call.request.stream ? streamChat(call, call.request.chat) : completeChat(call, call.request.chat)),
  sendFailure,
};

/** `POST /v1/chat/completions`: the request passes through as it came (the shared flow is model-route.ts). */
export function handleChatCompletions(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return serveModelRoute(ctx, req, res, chatRoute);
}

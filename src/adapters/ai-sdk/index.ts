/**
 * fmguard inside the Vercel AI SDK (`ai` v6): a language-model middleware, guarded tools and a
 * `stopWhen` condition from the run's limits. See examples/ai-sdk-agent.ts.
 */
export { guardMiddleware, type GuardMiddlewareOptions } from './middleware.ts';
export { guardTools, GuardToolError, type GuardToolsOptions } from './tools.ts';
export { guardStopWhen, type GuardStopCondition } from './stop-when.ts';
export { GuardAPICallError } from './errors.ts';
export { frameworkProvider } from '../shared/framework-provider.ts';
export { findGuardError } from '../shared/guard-errors.ts';
export type { ProposedToolCalls } from '../shared/proposed-calls.ts';

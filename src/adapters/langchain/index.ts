/**
 * fmguard inside LangChain.js agents (`langchain` v1): agent middleware for `createAgent`. See
 * examples/langchain-agent.ts.
 */
export { guardMiddleware, type GuardMiddlewareOptions } from './middleware.ts';
export { GuardStopError } from './errors.ts';
export { frameworkProvider } from '../shared/framework-provider.ts';
export { findGuardError } from '../shared/guard-errors.ts';
export type { ProposedToolCalls } from '../shared/proposed-calls.ts';

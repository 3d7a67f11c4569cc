/**
 * fmguard inside the OpenAI Agents SDK (`@openai/agents`): a model (provider) wrapper, tool input
 * guardrails from fmguard's policy and loop detectors, guarded function tools, and `maxTurns` from
 * the run's step limit. See examples/openai-agents.ts.
 */
export { guardModel, guardModelProvider, GuardedModel, type GuardModelOptions } from './model.ts';
export { guardAgentTools, guardToolInput, maxTurnsFor, type GuardAgentToolsOptions } from './tools.ts';
export { GuardMaxTurnsError, GuardStopError, isGuardStop, type GuardStopFields } from './errors.ts';
export { frameworkProvider } from '../shared/framework-provider.ts';
export { findGuardError } from '../shared/guard-errors.ts';
export type { ProposedToolCalls } from '../shared/proposed-calls.ts';

/** The simulated foundation model: an in-process provider and its OpenAI-compatible HTTP server. */
export { createSimModel, type SimCall, type SimModel, type SimModelOptions, type SimModelProfile } from './sim-model.ts';
export { startSimServer, SCENARIO_HEADER, type ClientClosedEvent, type SimServer, type SimServerOptions, type SimServerStats } from './sim-server.ts';
export { parseScenario, SCENARIO_NAMES, SimScenarioError, type SimScenario, type SimScenarioInput, type SimScenarioName } from './scenario.ts';
export type { SimAbortEvent, SimCallInfo, SimEventMap, SimStats } from './call-record.ts';
export { estimatePromptTokens, textTokens } from './tokens.ts';

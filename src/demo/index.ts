/** `fmguard demo`: runaway agents, written with the official openai client, stopped by the gateway. */
export { runDemo, type DemoOptions, type DemoReport, type DemoRow } from './run-demo.ts';
export { formatReport } from './format.ts';
export { buildDemoConfig, EXAMPLE_CONFIG_FILE } from './demo-config.ts';
export { PROJECTION_RULE, projectUnguarded } from './projection.ts';
export type { DemoTarget } from './target.ts';
export { checkDemoSpend, type SpendCheck } from './spend-check.ts';

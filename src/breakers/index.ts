export * from './state.ts';
export { DEFAULT_BREAKER_POLICY, checkPolicy, policyFor, type BreakerPolicy } from './policy.ts';
export type { BreakerStore, BreakerRecord, CasResult } from './store.ts';
export { createMemoryBreakerStore } from './memory-store.ts';
export { createSqliteBreakerStore, type SqliteBreakerStoreOptions } from './sqlite-store.ts';
export { createBreakers, breakerOpenError, type Breakers, type BreakersOptions, type BreakerChange, type BreakerView } from './service.ts';

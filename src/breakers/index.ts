export * from './state.ts';
export { DEFAULT_BREAKER_POLICY, checkPolicy, policyFor, type BreakerPolicy } from './policy.ts';
export type { BreakerStore, BreakerRecord, CasResult } from '../store/breakers.ts';
export { createBreakers, breakerOpenError, type Breakers, type BreakersOptions, type BreakerChange, type BreakerView } from './service.ts';

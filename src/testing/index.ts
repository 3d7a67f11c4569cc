/**
 * `fmguard/testing`: the fakes fmguard's own tests use, for yours. A clock that moves only when told,
 * the simulated model (scripted loops, stalls, failures, long outputs), and the in-memory store.
 */
export { FakeClock, flushMicrotasks, type FakeClockOptions } from './fake-clock.ts';
export { createSimModel, type SimModel, type SimModelOptions } from '../providers/simulated/sim-model.ts';
export { startSimServer, type SimServer, type SimServerOptions } from '../providers/simulated/sim-server.ts';
export { createMemoryStore, type MemoryStoreOptions } from '../backends/memory/index.ts';

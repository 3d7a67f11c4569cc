import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { runStoreContract } from './contract.ts';

runStoreContract({ name: 'memory', shared: false, audit: 'memory', open: async () => ({ store: createMemoryStore() }) });

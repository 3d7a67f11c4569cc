import { createMemoryApprovalStore } from '../../src/approvals/memory-store.ts';
import { approvalStoreSuite } from './store-suite.ts';

approvalStoreSuite('memory', () => ({ store: createMemoryApprovalStore() }));

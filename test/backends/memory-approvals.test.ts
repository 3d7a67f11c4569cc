import { createMemoryApprovalStore } from '../../src/backends/memory/approvals.ts';
import { approvalStoreSuite } from '../store/contract-approvals.ts';

approvalStoreSuite('memory', () => ({ store: createMemoryApprovalStore() }));

/**
 * THE store contract: every backend (memory, SQLite, Redis) runs every section against the Store
 * interface only: runs, ledger, rates, kills (contract-state.ts), reserved-concurrency slots, approvals, breakers, alarm state, minted API keys (contract-keys.ts),
 * metrics, retention (contract-retention.ts) and audit. Audit-only backends (Postgres, JSON Lines, a SQLite file) run the audit section.
 * A backend file calls `runStoreContract` with a fixture; nothing here knows which backend it is.
 */
import type { Store } from '../../src/store/store.ts';
import type { FakeClock } from '../../src/testing/fake-clock.ts';
import { alarmSections } from './contract-alarms.ts';
import { approvalStoreSuite } from './contract-approvals.ts';
import { type AuditFactory, auditSections } from './contract-audit.ts';
import { auditBatchSections } from './contract-audit-batches.ts';
import { breakerSections } from './contract-breakers.ts';
import { metricSections } from './contract-metrics.ts';
import { retentionSections } from './contract-retention.ts';
import { slotSections } from './contract-slots.ts';
import { stateSections } from './contract-state.ts';
import { operatorSections } from './contract-operator.ts';
import { apiKeySections } from './contract-keys.ts';

export type { AuditFactory } from './contract-audit.ts';

export interface OpenedStore {
  store: Store;
  /** A second handle on the same state (another process or replica), for backends that share state. */
  twin?: () => Promise<Store>;
  /** Removes what the fixture made (files, keys); runs after the stores are closed. */
  cleanup?: () => Promise<void> | void;
}

export interface BackendFixture {
  name: string;
  /** A fresh store, with state no other test sees. */
  open(): Promise<OpenedStore>;
  /** The fake clock the approval waits run on (a network backend's advance waits for its calls in flight). */
  clock?: () => FakeClock;
  /** Wrap the approval store before the suite uses it (e.g. to count calls in flight). */
  approvals?: (approvals: Store['approvals']) => Store['approvals'];
  /** Whether `open` gives a twin: a second handle on the same state. */
  shared: boolean;
  /** The audit log the backend keeps beside its state (`store.audit`): durable, in memory, or none. */
  audit: 'durable' | 'memory' | 'none';
}

/** Open a store and (when the backend has one) its twin; close both, then clean up. */
async function pair(fixture: BackendFixture) {
  const opened = await fixture.open();
  const twin = opened.twin ? await opened.twin() : undefined;
  return {
    a: opened.store,
    b: twin ?? opened.store,
    twin,
    close: async () => {
      await twin?.close();
      await opened.store.close();
      await opened.cleanup?.();
    },
  };
}

export function runStoreContract(fixture: BackendFixture): void {
  const { name } = fixture;
  stateSections(name, async () => {
    const opened = await fixture.open();
    // The state sections close the store themselves; clean up what the fixture made after that.
    const close = opened.store.close.bind(opened.store);
    return Object.assign(opened.store, {
      async close() {
        await close();
        await opened.cleanup?.();
      },
    });
  });
  const wrap = fixture.approvals ?? ((approvals) => approvals);
  approvalStoreSuite(
    name,
    async () => {
      const p = await pair(fixture);
      return { store: wrap(p.a.approvals), other: p.twin && wrap(p.twin.approvals), cleanup: p.close };
    },
    { sharedState: fixture.shared, clock: fixture.clock },
  );
  breakerSections(name, async () => {
    const p = await pair(fixture);
    return { a: p.a.breakers, b: p.b.breakers, close: p.close };
  });
  slotSections(name, async () => {
    const p = await pair(fixture);
    return { a: p.a.ledger, b: p.b.ledger, close: p.close };
  });
  alarmSections(name, async () => {
    const p = await pair(fixture);
    return { a: p.a.alarms, b: p.b.alarms, close: p.close };
  });
  operatorSections(name, async () => {
    const p = await pair(fixture);
    return { a: p.a, b: p.b, close: p.close };
  });
  apiKeySections(name, async () => {
    const p = await pair(fixture);
    return { a: p.a, b: p.b, close: p.close };
  });
  metricSections(name, async () => {
    const p = await pair(fixture);
    return { store: p.a.metrics, other: p.twin?.metrics, close: p.close };
  });
  retentionSections(name, () => pair(fixture));
  if (fixture.audit === 'none') return;
  const durable = fixture.audit === 'durable';
  const auditFactory = (): AuditFactory => {
    let opened: Promise<OpenedStore> | undefined;
    const store = async () => (await (opened ??= fixture.open())).store;
    return {
      async make() {
        const factory = (await store()).audit;
        if (!factory) throw new Error(`${name} keeps no audit log beside its state`);
        return factory.open();
      },
      reopen: durable ? async () => (await store()).audit!.open() : undefined,
      refusesAfterClose: durable,
      cleanup: async () => {
        const o = await opened;
        await o?.store.close();
        await o?.cleanup?.();
      },
    };
  };
  auditSections(`${name} store`, auditFactory);
  auditBatchSections(`${name} store`, auditFactory);
}

/** The audit section alone, for a sink that is not part of a state store (Postgres, JSON Lines). */
export function runAuditContract(name: string, factory: () => AuditFactory): void {
  auditSections(name, factory);
  auditBatchSections(name, factory);
}

/**
 * A second OS process for the SQLite tests: `node --import tsx sqlite-child.ts <path> <mode> [n]`.
 * mode `kill`: set the global kill switch. mode `reserve`: n reserves of 1000 on `budget:shared`
 * (limit 500_000), settling every other one; prints how many were granted.
 */
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';

const [path, mode, nArg] = process.argv.slice(2);
const store = createSqliteStore({ path });
const now = Date.UTC(2026, 0, 1);

if (mode === 'kill') {
  await store.kills.set('global', { reason: 'from another process', by: 'cli', at: now });
} else if (mode === 'reserve') {
  let granted = 0;
  for (let i = 0; i < Number(nArg); i++) {
    const id = `${process.pid}-${i}`;
    const r = await store.ledger.reserve({
      id,
      charges: [{ key: 'budget:shared', dim: 'cost', amount: 1000, limit: 500_000, code: 'budget.exhausted' }],
      expiresAt: now + 60_000,
      now,
    });
    if (!r.ok) continue;
    granted++;
    if (i % 2 === 0) await store.ledger.settle({ id, actual: [1000], now });
  }
  process.stdout.write(String(granted));
}
await store.close();

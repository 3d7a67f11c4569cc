// A process under load for the crash test: guarded model calls on a SQLite store, `width` at a
// time, each in a run of its own id (c-0, c-1, ...), until it is killed. Prints each settled id.
import { createGuard } from '../../../dist/index.js';

const [dbPath, width, flushMs, maxBatch] = process.argv.slice(2);
const guard = createGuard({
  config: {
    store: { kind: 'sqlite', path: dbPath },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: ['sk-crash-test-0001'], allow: { models: ['*'], tools: ['*'] } } },
    defaults: { retry: [] },
    audit: { flushMs: Number(flushMs), maxBatch: Number(maxBatch) },
  },
});
let next = 0;
async function worker() {
  for (;;) {
    const id = `c-${next++}`;
    const run = await guard.startRun({ agent: 'bot', id });
    await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `call ${id}` }] });
    process.stdout.write(`${id}\n`);
  }
}
process.stdout.write('ready\n');
for (let i = 0; i < Number(width); i++) void worker();

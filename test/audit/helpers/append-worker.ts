// Child process for the two-writer test: appends `count` events to one SQLite file, as `writer`.
import { createSqliteAuditSink } from '../../../src/backends/sqlite/audit.ts';

const [path, writer, countText] = process.argv.slice(2);
const sink = createSqliteAuditSink({ path });
for (let i = 0; i < Number(countText); i++) {
  await sink.append({ type: 'call.allowed', time: Date.now(), agent: writer, run: `${writer}-run`, details: { i } });
}
await sink.close();

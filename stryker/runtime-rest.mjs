// The `src/runtime` files that `guard.ts` and the seven budget files leave: the part of
// `npm run mutate:runtime` that docs/testing.md reports as its own row. Run one part at a time
// (`npx stryker run stryker/runtime-rest.mjs`); `npm run mutate:score` sums the reports.
import runtime from './runtime.mjs';

const measuredApart = ['guard', 'local-ledger', 'call-embeddings', 'charges', 'retry-loop', 'model-admission', 'call-tool', 'stream-model'];

export default {
  ...runtime,
  mutate: [...runtime.mutate, ...measuredApart.map((name) => `!src/runtime/${name}.ts`)],
  incrementalFile: 'reports/runtime-rest-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/runtime-rest.json' },
};

// `npm run mutate:wire`: the wire translations (src/core/wire), against the in-process tests plus the
// HTTP tests that drive them through loopback gateways and the official clients.
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/core/wire/*.ts'],
  vitest: { configFile: 'vitest.mutate-http.config.ts', related: true },
  incrementalFile: 'reports/wire-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/wire.json' },
};

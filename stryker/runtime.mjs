// `npm run mutate:runtime`: src/runtime, against the in-process suites plus every in-process suite that
// drives a guard (vitest.mutate-runtime.config.ts): the guard is what the gateways and the SDK run on.
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/runtime/**/*.ts', '!src/runtime/index.ts'],
  vitest: { configFile: 'vitest.mutate-runtime.config.ts', related: true },
  incrementalFile: 'reports/runtime-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/runtime.json' },
};

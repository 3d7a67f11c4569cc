// `npm run mutate:core`: src/core (without wire/) and the store rules, against the in-process tests.
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/core/*.ts', 'src/backends/rules.ts'],
  incrementalFile: 'reports/core-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/core.json' },
};

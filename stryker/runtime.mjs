// `npm run mutate:runtime`: src/runtime.
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/runtime/**/*.ts', '!src/runtime/index.ts'],
  incrementalFile: 'reports/runtime-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/runtime.json' },
};

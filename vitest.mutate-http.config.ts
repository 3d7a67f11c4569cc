import { defineConfig, mergeConfig } from 'vitest/config';
import unit from './vitest.mutate.config.ts';

/**
 * Stryker's tests for the wire translations (`src/core/wire`): the in-process suites plus the HTTP
 * tests that drive the translations through loopback gateways and the official clients, from src/.
 * Kept apart from vitest.mutate.config.ts because every core mutant would otherwise run them too.
 */
export default mergeConfig(
  unit,
  defineConfig({
    test: {
      include: ['test/gateway/**/*.test.ts', 'test/providers/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    },
  }),
);

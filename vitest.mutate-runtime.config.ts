import { defineConfig, mergeConfig } from 'vitest/config';
import unit from './vitest.mutate.config.ts';

/**
 * Stryker's tests for src/runtime: the in-process suites plus every in-process suite that drives a guard
 * (the gateways and their clients over loopback, MCP, breakers, keys, metrics, the admin API). The guard is
 * the SDK's and the gateways' engine, so most of what it promises is checked there, not in test/runtime.
 * Tests that start processes (the CLI, stdio MCP servers) are left out: they run dist/, not the mutant.
 */
export default mergeConfig(
  unit,
  defineConfig({
    test: {
      include: [
        'test/gateway/**/*.test.ts',
        'test/providers/**/*.test.ts',
        'test/fuzz/**/*.test.ts',
        'test/edge/**/*.test.ts',
        'test/mcp/**/*.test.ts',
        'test/breakers/**/*.test.ts',
        'test/keys/**/*.test.ts',
        'test/metrics/**/*.test.ts',
        'test/admin/**/*.test.ts',
      ],
      // …and one test that takes 16 s by design (each way a call ends, held 100 ms at a time), over the
      // 15 s a test may take here.
      exclude: ['test/keys/cli.test.ts', 'test/mcp/stdio.test.ts', 'test/mcp/upstream-supervision.test.ts', 'test/gateway/reserved-concurrency.test.ts'],
    },
  }),
);

import { defineConfig } from 'vitest/config';
import unit from './vitest.mutate.config.ts';

/**
 * A quick lower bound for the wire translations (`src/core/wire`): their own unit tests only, no HTTP.
 * The full run (`npm run mutate:wire`) adds the gateway tests, which can only kill more mutants.
 */
export default defineConfig({
  ...unit,
  test: { ...unit.test, include: ['test/core/wire*.test.ts', 'test/runtime/embeddings-edges.test.ts'], exclude: [] },
});

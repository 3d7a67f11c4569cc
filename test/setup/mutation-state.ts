import { beforeEach } from 'vitest';
import { forgetWindowCache } from '../../src/core/periods.ts';

// Stryker's workers keep modules loaded from one mutant to the next (vitest.mutate.config.ts,
// `isolate: false`); a mutant of `windowId` must not leave its wrong answer cached for the next one.
beforeEach(() => forgetWindowCache());

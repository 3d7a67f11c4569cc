import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { violations } from '../../scripts/check-layers.mjs';

describe('layer rules (ARCHITECTURE.md)', () => {
  it('no import in src/ breaks them: core imports nothing, nothing below wiring names a backend, the simulator or the demo', () => {
    expect(violations()).toEqual([]);
  });
});

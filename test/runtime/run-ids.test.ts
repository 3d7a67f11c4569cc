/**
 * Run ids (runtime/run-ids.ts): which names a client may give, how a scoped id splits back into its
 * name and agent, and what is refused as malformed.
 */
import { describe, expect, it } from 'vitest';
import { parseRunId, runName, scopeRunId } from '../../src/runtime/run-ids.ts';

describe('parseRunId', () => {
  it('accepts a bare name of allowed characters, and a name with its agent', () => {
    expect(parseRunId('report-1.v2_a:b')).toEqual({ name: 'report-1.v2_a:b' });
    expect(parseRunId('report@planner')).toEqual({ name: 'report', agent: 'planner' });
  });

  it('accepts a one-character name and a 128-character one, refuses 129 and the empty name', () => {
    expect(parseRunId('r')).toEqual({ name: 'r' });
    expect(parseRunId('a'.repeat(128))).toEqual({ name: 'a'.repeat(128) });
    expect(parseRunId('a'.repeat(129))).toBeUndefined();
    expect(parseRunId('')).toBeUndefined();
    expect(parseRunId('@planner')).toBeUndefined();
  });

  it('refuses a name with a disallowed character anywhere in it', () => {
    expect(parseRunId('report x')).toBeUndefined();
    expect(parseRunId(' report')).toBeUndefined();
    expect(parseRunId('report/')).toBeUndefined();
    expect(parseRunId('re/port@planner')).toBeUndefined();
  });

  it('refuses a value that is not a string', () => {
    expect(parseRunId(42)).toBeUndefined();
    expect(parseRunId(undefined)).toBeUndefined();
    expect(parseRunId({ id: 'r' })).toBeUndefined();
  });

  it('takes an agent of 1 to 256 characters, refuses an empty or longer one', () => {
    expect(parseRunId('r@')).toBeUndefined();
    expect(parseRunId('r@a')).toEqual({ name: 'r', agent: 'a' });
    expect(parseRunId(`r@${'b'.repeat(256)}`)).toEqual({ name: 'r', agent: 'b'.repeat(256) });
    expect(parseRunId(`r@${'b'.repeat(257)}`)).toBeUndefined();
  });
});

describe('runName and scopeRunId', () => {
  it('scopes a name to its agent and strips the agent back off', () => {
    expect(scopeRunId('report', 'planner')).toBe('report@planner');
    expect(runName('report@planner')).toBe('report');
  });

  it('gives a bare name back unchanged, and an empty name for an id that starts with @', () => {
    expect(runName('report')).toBe('report');
    expect(runName('@planner')).toBe('');
  });
});

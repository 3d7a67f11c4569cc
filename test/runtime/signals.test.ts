/**
 * Linking a call's abort signal to the caller's (runtime/signals.ts): either aborting aborts the link
 * with its reason, an already aborted one aborts it at once, and dispose unlinks both.
 */
import { describe, expect, it } from 'vitest';
import { linkSignals } from '../../src/runtime/signals.ts';

describe('linkSignals', () => {
  it('gives the primary back when there is no other signal, or the other is the same one', () => {
    const primary = new AbortController().signal;
    expect(linkSignals(primary, undefined).signal).toBe(primary);
    expect(linkSignals(primary, primary).signal).toBe(primary);
  });

  it('is aborted at once, with the reason, when the primary is already aborted', () => {
    const primary = AbortSignal.abort('primary gone');
    const linked = linkSignals(primary, new AbortController().signal);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('primary gone');
  });

  it('is aborted at once, with the reason, when the secondary is already aborted', () => {
    const linked = linkSignals(new AbortController().signal, AbortSignal.abort('caller gone'));
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('caller gone');
  });

  it('aborts with the primary’s reason when the primary aborts later', () => {
    const primary = new AbortController();
    const secondary = new AbortController();
    const linked = linkSignals(primary.signal, secondary.signal);
    expect(linked.signal.aborted).toBe(false);
    primary.abort('deadline');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('deadline');
  });

  it('aborts with the secondary’s reason when the secondary aborts later', () => {
    const primary = new AbortController();
    const secondary = new AbortController();
    const linked = linkSignals(primary.signal, secondary.signal);
    secondary.abort('client left');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('client left');
  });

  it('after dispose, neither signal aborts the link', () => {
    const primary = new AbortController();
    const secondary = new AbortController();
    const linked = linkSignals(primary.signal, secondary.signal);
    linked.dispose();
    primary.abort('deadline');
    expect(linked.signal.aborted).toBe(false);
    const other = linkSignals(new AbortController().signal, secondary.signal);
    other.dispose();
    secondary.abort('client left');
    expect(other.signal.aborted).toBe(false);
  });
});

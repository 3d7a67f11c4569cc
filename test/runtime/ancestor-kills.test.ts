/**
 * A `run:` kill stops the run and every run under it, at any depth, and nothing else; in this process
 * and in another process sharing the store. (Sub-runs carry their ancestors, so a kill on any of them
 * reaches the sub-run.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createGuard } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-ancestor-kills-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ancestor kill scopes', () => {
  it('killing the root stops a grandchild; killing a child stops its subtree, not its parent or sibling', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxDepth: 3 } }) });
    const root = await guard.startRun({ agent: 'bot' });
    const left = await root.subRun();
    const leftLeaf = await left.subRun();
    const right = await root.subRun();

    await guard.kill(`run:${left.id}`, 'left branch looped');
    expect([left.signal.aborted, leftLeaf.signal.aborted]).toEqual([true, true]);
    expect([root.signal.aborted, right.signal.aborted]).toEqual([false, false]);
    await expect(leftLeaf.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', details: { scope: `run:${left.id}` } });
    await expect(right.callModel(ask('still fine'))).resolves.toBeDefined();
    await expect(root.callModel(ask('still fine'))).resolves.toBeDefined();

    await guard.kill(`run:${root.id}`, 'stop everything');
    expect([root.signal.aborted, right.signal.aborted]).toEqual([true, true]);
    await expect(right.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', details: { scope: `run:${root.id}` } });
    await guard.close();
  });

  it('no sub-run can be started under a killed ancestor', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxDepth: 3 } }) });
    const root = await guard.startRun({ agent: 'bot' });
    const child = await root.subRun();
    await guard.kill(`run:${root.id}`, 'halt');
    const refused = await child.subRun().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'kill.switch' });
    await expect(root.subRun()).rejects.toMatchObject({ code: 'kill.switch' });
    await guard.close();
  });

  it('a kill made by another process reaches a grandchild through the shared SQLite store', async () => {
    const path = join(dir, 'state.db');
    const config = baseConfig({ limits: { maxDepth: 3 } }, { store: { kind: 'sqlite', path }, audit: { sink: 'none' } } as never);
    const here = createGuard({ config });
    const there = createGuard({ config });
    const root = await here.startRun({ agent: 'bot' });
    const grandchild = await (await root.subRun()).subRun();
    const stranger = await here.startRun({ agent: 'bot' });
    await there.kill(`run:${root.id}`, 'operator, elsewhere');
    await vi.waitFor(() => expect(grandchild.signal.aborted).toBe(true), { timeout: 10_000, interval: 20 });
    await expect(grandchild.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch' });
    expect(stranger.signal.aborted).toBe(false);
    await expect(stranger.callModel(ask('unrelated run'))).resolves.toBeDefined();
    await Promise.all([here.close(), there.close()]);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, type GuardError, type Authorizer } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-approvals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Allows everything, but sending e-mail needs a human. */
const authorizer: Authorizer = {
  authorize: ({ action, resource }) =>
    action === 'callTool' && resource === 'demo.send_email'
      ? { effect: 'approval', policies: ['approve-email'] }
      : { effect: 'allow', policies: ['allow-all'] },
};

const email = { to: 'ana@example.com', subject: 'hi' };
const send = { tool: 'demo.send_email', args: email, execute: () => 'sent' };

describe('approvals in guarded tool calls', () => {
  it('approve → the identical call passes once; the next identical call needs a new approval', async () => {
    const guard = createGuard({ config: baseConfig(), authorizer });
    const run = await guard.startRun({ agent: 'bot' });
    const first = (await run.callTool(send).catch((e: unknown) => e)) as GuardError;
    expect(first.code).toBe('approval.required');
    const id = first.details.approvalId as string;
    expect(id).toBeTruthy();
    // Not counted as a tool call while it waits for a human.
    expect((await run.usage()).toolCalls).toBe(0);
    expect((await guard.approve(id, 'alice')).ok).toBe(true);
    await expect(run.callTool(send)).resolves.toMatchObject({ result: 'sent' });
    const again = (await run.callTool(send).catch((e: unknown) => e)) as GuardError;
    expect(again.code).toBe('approval.required');
    expect(again.details.approvalId).not.toBe(id);
    await guard.close();
  });

  it('changed arguments need their own approval; deny gives approval.denied', async () => {
    const guard = createGuard({ config: baseConfig(), authorizer });
    const run = await guard.startRun({ agent: 'bot' });
    const first = (await run.callTool(send).catch((e: unknown) => e)) as GuardError;
    await guard.approve(first.details.approvalId as string);
    const changed = (await run.callTool({ ...send, args: { ...email, to: 'eve@evil.test' } }).catch((e: unknown) => e)) as GuardError;
    expect(changed.code).toBe('approval.required');
    await guard.deny(changed.details.approvalId as string, 'alice', 'not that recipient');
    const denied = (await run.callTool({ ...send, args: { ...email, to: 'eve@evil.test' } }).catch((e: unknown) => e)) as GuardError;
    expect(denied.code).toBe('approval.denied');
    await guard.close();
  });

  it('a call can wait for the decision, approved while it waits', async () => {
    const guard = createGuard({ config: baseConfig({ approvals: { waitMs: 10_000 } }), authorizer });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callTool(send);
    let listed: Awaited<ReturnType<typeof guard.listApprovals>> = [];
    for (let i = 0; i < 50 && listed.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      listed = await guard.listApprovals({ status: 'pending' });
    }
    expect(listed).toHaveLength(1);
    await guard.approve(listed[0]!.id);
    await expect(pending).resolves.toMatchObject({ result: 'sent' });
    await guard.close();
  });
});

describe('the audit log records every decision', () => {
  it('allowed calls, refusals and stops land in the SQLite log beside the state, with no secrets', async () => {
    const path = join(dir, 'state.db');
    const guard = createGuard({
      config: baseConfig({ limits: { maxSteps: 2, maxIdenticalOutputs: 10 }, redactFields: ['password'] }, { store: { kind: 'sqlite', path } } as never),
      authorizer,
    });
    const run = await guard.startRun({ key: 'sk-test-bot-0001' });
    await run.callModel(ask('one'));
    await run.callTool({ tool: 'demo.login', args: { user: 'ana', password: 'hunter2-secret' }, execute: () => 'ok' });
    await run.callModel(ask('two'));
    await run.callModel(ask('three')).catch(() => {});
    await guard.kill(`run:${run.id}`, 'enough');
    await guard.audit!.flush();
    const events = await guard.audit!.sink.query({ run: run.id, order: 'asc' });
    expect(events.map((e) => `${e.type}${e.code ? `:${e.code}` : ''}`)).toEqual([
      'run.started',
      'call.allowed',
      'call.allowed',
      'call.allowed',
      'call.refused:limit.steps',
      'run.stopped:kill.switch',
    ]);
    const allowed = events[1]!;
    expect(allowed.costUsd).toBeGreaterThan(0);
    expect(allowed.usage?.outputTokens).toBeGreaterThan(0);
    expect((await guard.audit!.sink.verify()).ok).toBe(true);
    await guard.close();
    const raw = readFileSync(path).toString('latin1') + readFileSync(`${path}-wal`, { flag: 'a+' }).toString('latin1');
    expect(raw).not.toContain('hunter2-secret');
    expect(raw).not.toContain('sk-test-bot-0001');
  });
});

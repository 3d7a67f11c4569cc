import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { exportAws, type AslStateMachine } from '../../src/aws/export/index.ts';
import { aslRuleViolations } from './asl-rules.ts';
import { ACCOUNT, exportConfigInput, fn, PROFILE, REGION } from './export-fixture.ts';
import { parseConfig } from './helpers.ts';

/** Issue 12 item 4: `models.<name>.catch` exported as the ASL `Catch` of the model task, to a fallback model task. */
const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (sep?: string) => string };

function substituted(machine: AslStateMachine): unknown {
  const text = JSON.stringify(machine)
    .replaceAll('${AgentLoopFunctionArn}', fn('fmguard-agent-loop'))
    .replace(/\$\{ToolFunction([A-Za-z0-9]+)Arn\}/g, (_, name: string) => fn(name.toLowerCase()));
  return JSON.parse(text);
}

function exportWith(catchers: unknown[]) {
  const { input, dir } = exportConfigInput();
  const models = input.models as Record<string, Record<string, unknown>>;
  models['claude-haiku']!.catch = catchers;
  const config = parseConfig(input, { baseDir: dir });
  return exportAws(config, { account: ACCOUNT, region: REGION });
}

function exportWithToolCatchers(catchers: unknown[]) {
  const { input, dir } = exportConfigInput();
  const crm = (input.toolServers as Record<string, { tools: Record<string, Record<string, unknown>> }>).crm!;
  crm.tools.lookup_customer!.catch = catchers;
  const config = parseConfig(input, { baseDir: dir });
  return exportAws(config, { account: ACCOUNT, region: REGION });
}

type MapState = { Iterator: { States: Record<string, Task> } };

type Task = { Type: string; Catch: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>; Parameters: Record<string, unknown>; Next: string };

describe('Catch in the exported state machine', () => {
  it('a catcher to a fallback model becomes the first ASL Catch, to a step count and the fallback model task; the machine validates', () => {
    const out = exportWith([
      { errorEquals: ['timeout.*'], next: 'claude-profile' },
      { errorEquals: ['all'], next: 'claude-profile' },
    ]);
    const machine = out.stateMachines['support-bot']!;
    const result = aslValidator(substituted(machine), { checkArn: true, checkPaths: true });
    expect(result.isValid, result.errorsText('\n')).toBe(true);
    expect(aslRuleViolations(machine.States)).toEqual([]);
    const invoke = machine.States.InvokeModel as Task;
    expect(invoke.Catch[0]).toEqual({ ErrorEquals: ['States.Timeout'], Next: 'CountStep claude-profile', ResultPath: '$.error' });
    // `all` is the catchable errors, never States.ALL (which would catch a ValidationException, vector S8).
    expect(invoke.Catch[1]!.ErrorEquals).not.toContain('States.ALL');
    expect(invoke.Catch[1]!.ErrorEquals).not.toContain('Bedrock.ValidationException');
    expect(invoke.Catch[1]!.ErrorEquals).toContain('States.Timeout');
    // The built-in stop catchers follow, States.ALL last.
    expect(invoke.Catch.at(-1)!.ErrorEquals).toEqual(['States.ALL']);
    const fallback = machine.States['InvokeModel claude-profile'] as Task;
    expect(fallback.Type).toBe('Task');
    expect(fallback.Parameters.ModelId).toBe(PROFILE);
    expect(fallback.Next).toBe('Account');
    expect((machine.States['CountStep claude-profile'] as Task).Next).toBe('InvokeModel claude-profile');
  });

  it('without catch: no fallback states; a catcher to a model the loop cannot call is reported, not exported', () => {
    const plain = exportWith([]);
    expect(Object.keys(plain.stateMachines['support-bot']!.States).some((s) => s.startsWith('InvokeModel '))).toBe(false);
    const out = exportWith([{ errorEquals: ['all'], next: 'gpt' }]);
    expect((out.stateMachines['support-bot']!.States.InvokeModel as Task).Catch.map((c) => c.Next)).toEqual([
      'StopRateLimited',
      'StopRequestInvalid',
      'StopTimeoutTotal',
      'StopUpstreamError',
    ]);
    expect(out.report.items).toContainEqual(
      expect.objectContaining({ source: 'models.claude-haiku.catch[0]', message: expect.stringContaining('not a Bedrock model') }),
    );
  });
});

describe('tool catchers in the exported state machine', () => {
  const toolTask = (out: ReturnType<typeof exportAws>, name: string) => (out.stateMachines['support-bot']!.States.CallTools as MapState).Iterator.States[name]!;

  it('a catcher to a fallback tool: the tool task catches to the fallback task in the same Map (ResultPath keeps the arguments); the machine validates', () => {
    const out = exportWithToolCatchers([
      { errorEquals: ['timeout.tool'], next: 'kb.search' },
      { errorEquals: ['all'], next: 'crm.notes' },
    ]);
    const machine = out.stateMachines['support-bot']!;
    const result = aslValidator(substituted(machine), { checkArn: true, checkPaths: true });
    expect(result.isValid, result.errorsText('\n')).toBe(true);
    expect(aslRuleViolations(machine.States)).toEqual([]);
    const task = toolTask(out, 'Tool crm.lookup_customer');
    expect(task.Catch).toEqual([
      { ErrorEquals: ['States.Timeout', 'Sandbox.Timedout'], Next: 'Tool kb.search', ResultPath: '$.error' },
      // `all`: the names of every catchable code a Lambda task raises, never States.ALL (vector S8).
      { ErrorEquals: ['States.TaskFailed', 'Lambda.TooManyRequestsException'], Next: 'Tool crm.notes', ResultPath: '$.error' },
      { ErrorEquals: ['States.Timeout', 'Sandbox.Timedout'], Next: 'ToolStopTimeoutTool' },
      { ErrorEquals: ['States.ALL'], Next: 'ToolStopUpstreamError' },
    ]);
    // The fallback is the tool's own task, with its own Catch; a tool without catchers keeps the built-in ones.
    expect(toolTask(out, 'Tool kb.search').Catch.map((c) => c.Next)).toEqual(['ToolStopTimeoutTool', 'ToolStopUpstreamError']);
    // breaker.open (in `all`) is fmguard's own breaker: reported.
    expect(out.report.items).toContainEqual(
      expect.objectContaining({ source: 'toolServers.crm.tools.lookup_customer.catch[1]', message: expect.stringContaining('breaker.open') }),
    );
  });

  it('upstream.error alone (States.TaskFailed): the function timeout and throttles it would also match go where fmguard sends them first', () => {
    const out = exportWithToolCatchers([
      { errorEquals: ['upstream.error'], next: 'kb.search' },
      { errorEquals: ['rate.limited'], next: 'crm.notes' },
    ]);
    expect(toolTask(out, 'Tool crm.lookup_customer').Catch).toEqual([
      { ErrorEquals: ['Sandbox.Timedout'], Next: 'ToolStopTimeoutTool', ResultPath: '$.error' },
      { ErrorEquals: ['Lambda.TooManyRequestsException'], Next: 'Tool crm.notes', ResultPath: '$.error' },
      { ErrorEquals: ['States.TaskFailed'], Next: 'Tool kb.search', ResultPath: '$.error' },
      { ErrorEquals: ['States.Timeout', 'Sandbox.Timedout'], Next: 'ToolStopTimeoutTool' },
      { ErrorEquals: ['States.ALL'], Next: 'ToolStopUpstreamError' },
    ]);
  });

  it('a catcher to a tool the loop cannot call (denied, or not on Lambda) is reported, not exported', () => {
    const out = exportWithToolCatchers([
      { errorEquals: ['upstream.error'], next: 'crm.export_all' },
      { errorEquals: ['all'], next: 'local.grep' },
    ]);
    expect(toolTask(out, 'Tool crm.lookup_customer').Catch.map((c) => c.Next)).toEqual(['ToolStopTimeoutTool', 'ToolStopUpstreamError']);
    for (const i of [0, 1])
      expect(out.report.items).toContainEqual(
        expect.objectContaining({ source: `toolServers.crm.tools.lookup_customer.catch[${i}]`, message: expect.stringContaining('not a Lambda tool') }),
      );
  });
});

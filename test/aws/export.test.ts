import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { aslErrorNames, aslRetry, exportAws, ExportReport, stopStateName, type AslStateMachine } from '../../src/aws/export/index.ts';
import { aslRuleViolations } from './asl-rules.ts';
import { ACCOUNT, exportConfig, exportConfigInput, fn, HAIKU, REGION } from './export-fixture.ts';
import { compileRetryPolicy, loadConfigFile, parseConfig, type Retrier, type StopCode } from './helpers.ts';
import { BIN } from '../cli/helpers.ts';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (sep?: string) => string };

const { config, dir } = exportConfig();
const out = exportAws(config, { account: ACCOUNT, region: REGION });

/** What CloudFormation does with DefinitionSubstitutions at deploy time. */
function substituted(machine: AslStateMachine): unknown {
  const text = JSON.stringify(machine)
    .replaceAll('${AgentLoopFunctionArn}', fn('fmguard-agent-loop'))
    .replace(/\$\{ToolFunction([A-Za-z0-9]+)Arn\}/g, (_, name: string) => fn(name.toLowerCase()));
  return JSON.parse(text);
}

describe('Step Functions state machines', () => {
  it('every exported state machine passes asl-validator (v4), ARNs and paths checked', () => {
    expect(Object.keys(out.stateMachines).sort()).toEqual(['analyst', 'intern', 'support-bot']);
    for (const [agent, machine] of Object.entries(out.stateMachines)) {
      const result = aslValidator(substituted(machine), { checkArn: true, checkPaths: true });
      expect(result.isValid, `${agent}: ${result.errorsText('\n')}`).toBe(true);
      expect(aslRuleViolations(machine.States)).toEqual([]);
      // The file on its own is the same definition.
      expect(JSON.parse(out.files[`asl/${agent}.asl.json`]!)).toEqual(machine);
    }
  });

  it('the checks do reject a broken machine (so the checks above can fail)', () => {
    const broken = structuredClone(substituted(out.stateMachines['support-bot']!)) as AslStateMachine;
    (broken.States.Check as { Default: string }).Default = 'NoSuchState';
    expect(aslValidator(broken).isValid).toBe(false);
    const badTimeout = structuredClone(substituted(out.stateMachines['support-bot']!)) as AslStateMachine;
    (badTimeout.States.InvokeModel as { TimeoutSeconds: unknown }).TimeoutSeconds = '45';
    expect(aslValidator(badTimeout).isValid).toBe(false);
    const badRetry = structuredClone(out.stateMachines['support-bot']!);
    const retry = (badRetry.States.InvokeModel as { Retry: Array<Record<string, unknown>> }).Retry;
    retry[0]!.BackoffRate = 0.5;
    retry.unshift({ ErrorEquals: ['States.ALL'] });
    expect(aslRuleViolations(badRetry.States)).toEqual([
      'States.InvokeModel.Retry[1].BackoffRate must be >= 1',
      'States.InvokeModel.Retry[0]: States.ALL must stand alone in the last entry',
    ]);
  });

  it('the loop: a Choice with the step, cost, token and time limits, Fail states named by stop code', () => {
    const m = out.stateMachines['support-bot']!;
    expect(m.StartAt).toBe('Init');
    expect(m.TimeoutSeconds).toBe(120);
    const check = m.States.Check as { Choices: Array<Record<string, unknown>>; Default: string };
    expect(check.Default).toBe('CountStep');
    expect(check.Choices.map((c) => c.Next)).toEqual(['StopLimitDuration', 'Done', 'StopLimitSteps', 'StopLimitTokens', 'StopLimitCost']);
    expect(check.Choices[2]).toEqual({ Variable: '$.steps', NumericGreaterThanEquals: 12, Next: 'StopLimitSteps' });
    for (const code of [
      'limit.duration',
      'limit.steps',
      'limit.tokens',
      'limit.cost',
      'rate.limited',
      'request.invalid',
      'timeout.total',
      'upstream.error',
    ] as const) {
      expect(m.States[stopStateName(code)]).toMatchObject({ Type: 'Fail', Error: code });
    }
    expect(m.States.CountStep).toMatchObject({ Type: 'Pass', Parameters: { 'steps.$': 'States.MathAdd($.steps, 1)' } });
    expect(m.States.InvokeModel).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::bedrock:invokeModel',
      Parameters: { ModelId: HAIKU, 'Body.$': '$.account.body' },
      TimeoutSeconds: 45,
    });
  });

  it('fmguard’s Retry translates field for field, and a model error after retries ends with its stop code', () => {
    const invoke = out.stateMachines['support-bot']!.States.InvokeModel as { Retry: unknown[]; Catch: Array<{ ErrorEquals: string[]; Next: string }> };
    expect(invoke.Retry).toEqual([
      { ErrorEquals: aslErrorNames('rate.limited', 'model'), IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL' },
      {
        ErrorEquals: [...aslErrorNames('upstream.error', 'model'), 'States.Timeout'],
        IntervalSeconds: 1,
        MaxAttempts: 2,
        BackoffRate: 2,
        JitterStrategy: 'NONE',
      },
    ]);
    expect(aslErrorNames('rate.limited', 'model')).toEqual([
      'Bedrock.ThrottlingException',
      'BedrockRuntime.ThrottlingException',
      'Bedrock.ServiceQuotaExceededException',
      'BedrockRuntime.ServiceQuotaExceededException',
    ]);
    expect(invoke.Catch.map((c) => c.Next)).toEqual(['StopRateLimited', 'StopRequestInvalid', 'StopTimeoutTotal', 'StopUpstreamError']);
    expect(invoke.Catch.at(-1)!.ErrorEquals).toEqual(['States.ALL']);
    // 500 ms rounds up to Step Functions' 1 s, and the report says so.
    expect(out.report.items).toContainEqual(
      expect.objectContaining({ agent: 'support-bot', subject: 'model retrier 1', message: expect.stringContaining('rounded up to 1s') }),
    );
  });

  it('tool calls are Lambda tasks with TimeoutSeconds from the tool timeouts, their retries, and their stop codes', () => {
    const iterator = (out.stateMachines['support-bot']!.States.CallTools as { Iterator: { States: Record<string, Record<string, unknown>> } }).Iterator.States;
    expect(iterator['Tool crm.lookup_customer']).toMatchObject({ Type: 'Task', Resource: fn('crm-lookup'), TimeoutSeconds: 10 });
    expect(iterator['Tool crm.refund']).toMatchObject({ Resource: '${ToolFunctionCrmRefundArn}', TimeoutSeconds: 20 });
    expect(iterator['Tool crm.notes']).toMatchObject({ Resource: fn('crm-notes'), TimeoutSeconds: 15 });
    expect(iterator['Tool kb.search']).toMatchObject({
      Resource: fn('kb-tools'),
      TimeoutSeconds: 15,
      Parameters: { tool: 'kb.search', 'arguments.$': '$.arguments' },
    });
    expect(iterator['Tool crm.lookup_customer']!.HeartbeatSeconds).toBeUndefined();
    expect(iterator['Tool crm.lookup_customer']!.Retry).toEqual([
      { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2, MaxDelaySeconds: 20, JitterStrategy: 'FULL' },
      { ErrorEquals: ['States.TaskFailed', 'States.Timeout', 'Sandbox.Timedout'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'NONE' },
    ]);
    // Tools without `idempotent: true` and a retry of their own are never retried (issue 12 item 2), whatever the agent's model retriers.
    expect(iterator['Tool crm.refund']!.Retry).toBeUndefined();
    expect(iterator['Tool kb.search']!.Retry).toBeUndefined();
    expect(iterator['Tool crm.lookup_customer']!.Catch).toEqual([
      { ErrorEquals: ['States.Timeout', 'Sandbox.Timedout'], Next: 'ToolStopTimeoutTool' },
      { ErrorEquals: ['States.ALL'], Next: 'ToolStopUpstreamError' },
    ]);
    // Forbidden and non-AWS tools are not routed: the model calling one ends the run with policy.denied.
    expect(
      Object.keys(iterator)
        .filter((k) => k.startsWith('Tool '))
        .sort(),
    ).toEqual(['Tool crm.lookup_customer', 'Tool crm.notes', 'Tool crm.refund', 'Tool kb.search']);
    expect(iterator.RouteTool!.Default).toBe('ToolStopPolicyDenied');
    expect(iterator.ToolStopPolicyDenied).toEqual({ Type: 'Fail', Error: 'policy.denied', Cause: expect.any(String) });
    expect(out.report.items).toContainEqual(
      expect.objectContaining({ agent: 'support-bot', subject: 'tool timeouts', message: expect.stringContaining('HeartbeatSeconds is not set') }),
    );
  });
});

/** Step Functions' retry behaviour for one Retry array and an error sequence (reference §1): waits in seconds, then 'exhausted'/'no-match'. */
function aslRetries(
  retry: Array<{ ErrorEquals: string[]; IntervalSeconds: number; MaxAttempts: number; BackoffRate: number; MaxDelaySeconds?: number }>,
  errors: string[],
): Array<number | string> {
  const counts = retry.map(() => 0);
  const out: Array<number | string> = [];
  for (const error of errors) {
    const i = retry.findIndex(
      (r) =>
        r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL') || (r.ErrorEquals.includes('States.TaskFailed') && error !== 'States.Timeout'),
    );
    if (i < 0) return [...out, 'no-match'];
    const r = retry[i]!;
    const n = ++counts[i]!;
    if (n > r.MaxAttempts) return [...out, 'exhausted'];
    const base = r.IntervalSeconds * r.BackoffRate ** (n - 1);
    out.push(r.MaxDelaySeconds !== undefined ? Math.min(base, r.MaxDelaySeconds) : base);
  }
  return out;
}

/** fmguard's own retry policy for the same codes: waits in seconds, then its reason. */
function fmguardRetries(retriers: Retrier[], codes: StopCode[]): Array<number | string> {
  const state = compileRetryPolicy(retriers).start();
  const out: Array<number | string> = [];
  for (const code of codes) {
    const d = state.next(code);
    if (!d.retry) return [...out, d.reason];
    out.push(d.delayMs / 1000);
  }
  return out;
}

describe('the Retry translation behaves as fmguard retries (vectors S1, S2, S5, S6)', () => {
  const cases: Array<{ name: string; retriers: Retrier[]; codes: StopCode[]; kind: 'model' | 'tool'; expected: Array<number | string> }> = [
    {
      name: 'S1',
      retriers: [{ errorEquals: ['upstream.error'], intervalMs: 3000, backoffRate: 2, maxAttempts: 3 }],
      codes: ['upstream.error', 'upstream.error', 'upstream.error', 'upstream.error'],
      kind: 'model',
      expected: [3, 6, 12, 'exhausted'],
    },
    {
      name: 'S2',
      retriers: [{ errorEquals: ['rate.limited'], intervalMs: 3000, backoffRate: 2, maxAttempts: 3, maxDelayMs: 5000 }],
      codes: ['rate.limited', 'rate.limited', 'rate.limited'],
      kind: 'model',
      expected: [3, 5, 5],
    },
    {
      name: 'S5',
      retriers: [
        { errorEquals: ['upstream.error', 'rate.limited'], intervalMs: 1000, backoffRate: 2, maxAttempts: 2 },
        { errorEquals: ['timeout.total'], intervalMs: 5000 },
      ],
      codes: ['upstream.error', 'rate.limited', 'timeout.total', 'rate.limited'],
      kind: 'model',
      expected: [1, 2, 5, 'exhausted'],
    },
    {
      name: 'S6',
      retriers: [{ errorEquals: ['timeout.tool'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      codes: ['timeout.tool'],
      kind: 'tool',
      expected: ['exhausted'],
    },
    {
      name: 'S6 other',
      retriers: [{ errorEquals: ['timeout.tool'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      codes: ['upstream.error', 'upstream.error', 'upstream.error'],
      kind: 'tool',
      expected: [1, 2, 4],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: same waits, same end`, () => {
      const retry = aslRetry(c.retriers, c.kind, new ExportReport(), 'a');
      const names = c.codes.map((code) => aslErrorNames(code, c.kind)[0]!);
      expect(fmguardRetries(c.retriers, c.codes)).toEqual(c.expected);
      expect(aslRetries(retry, names)).toEqual(c.expected);
    });
  }

  it('`all` is the list of retryable errors, never States.ALL (which would retry a ValidationException)', () => {
    const [retrier] = aslRetry([{ errorEquals: ['all'] }], 'model', new ExportReport(), 'a');
    expect(retrier!.ErrorEquals).not.toContain('States.ALL');
    expect(retrier!.ErrorEquals).toContain('Bedrock.ThrottlingException');
    expect(retrier!.ErrorEquals).not.toContain('Bedrock.ValidationException');
    expect(fmguardRetries([{ errorEquals: ['all'] }], ['request.invalid'])).toEqual(['non-retryable']);
  });

  it('a retrier on codes no task raises is left out and reported', () => {
    const report = new ExportReport();
    expect(aslRetry([{ errorEquals: ['breaker.open'] }], 'model', report, 'a')).toEqual([]);
    expect(report.items[0]).toMatchObject({ subject: 'model retrier 0', message: expect.stringContaining('never raises') });
  });
});

describe('the CloudFormation template, checked resource by resource with aws-cdk-lib assertions', () => {
  const template = Template.fromJSON(out.template);

  it('has the expected resources, and every Ref / GetAtt / Condition resolves', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 3);
    template.resourceCountIs('AWS::IAM::Role', 5);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 1);
    template.resourceCountIs('AWS::Organizations::Policy', 1);
    const json = template.toJSON() as { Resources: Record<string, unknown>; Parameters: Record<string, unknown>; Conditions: Record<string, unknown> };
    const names = new Set([...Object.keys(json.Resources), ...Object.keys(json.Parameters), 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::AccountId']);
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Ref') expect(names, `Ref ${String(value)}`).toContain(value);
        if (key === 'Fn::GetAtt') expect(json.Resources, `GetAtt ${String((value as string[])[0])}`).toHaveProperty([(value as string[])[0]!]);
        if (key === 'Condition' || key === 'Fn::If') expect(json.Conditions).toHaveProperty([Array.isArray(value) ? value[0] : value]);
        if (key === 'DependsOn') for (const id of value as string[]) expect(json.Resources).toHaveProperty([id]);
        walk(value);
      }
    };
    walk(json.Resources);
  });

  it('each agent: its identity policy, the role its state machine runs as, and the state machine', () => {
    for (const agent of ['support-bot', 'analyst', 'intern']) {
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', { PolicyDocument: out.policies[agent] });
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `fmguard-${agent}`,
        StateMachineType: 'STANDARD',
        Definition: out.stateMachines[agent],
        DefinitionSubstitutions: {
          AgentLoopFunctionArn: { 'Fn::GetAtt': ['AgentLoopFunction', 'Arn'] },
          ToolFunctionCrmRefundArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ToolFunctionCrmRefund'), 'Arn'] },
        },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AgentRole'), 'Arn'] },
      });
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^AgentPolicySupportBot') }],
      Policies: [
        {
          PolicyName: 'fmguard-agent-loop',
          PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['AgentLoopFunction', 'Arn'] } }] },
        },
      ],
    });
  });

  it('Lambda: the agent-loop function and the tool function the stack owns, with its timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Code: 'lambda/agent-loop',
      Role: { 'Fn::GetAtt': ['AgentLoopRole', 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'crm-refund',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Code: './lambda/refund',
      Timeout: 20,
      MemorySize: 256,
      ReservedConcurrentExecutions: Match.absent(),
    });
    expect(out.toolFunctions.find((f) => f.function === fn('crm-lookup'))).toEqual({
      function: fn('crm-lookup'),
      created: false,
      tools: ['crm.lookup_customer'],
      timeoutSeconds: 10,
    });
    expect(out.files['lambda/configure-tool-functions.sh']).toContain(
      `aws lambda update-function-configuration --function-name '${fn('crm-lookup')}' --timeout 10`,
    );
  });

  it('reserved concurrency is exported once agents have a concurrency cap (the sum of the callers’ caps)', () => {
    // The cap as a user writes it (`agents.<name>.maxConcurrentCalls`), through the config loader.
    const { input, dir } = exportConfigInput();
    for (const agent of Object.values(input.agents ?? {})) (agent as { maxConcurrentCalls?: number }).maxConcurrentCalls = 3;
    const capped = parseConfig(input, { baseDir: dir });
    expect(Object.values(capped.agents).map((a) => a.maxConcurrentCalls)).toEqual(Object.values(capped.agents).map(() => 3));
    const withCaps = exportAws(capped, { account: ACCOUNT, region: REGION });
    // crm.refund: support-bot and analyst may call it → 3 + 3.
    Template.fromJSON(withCaps.template).hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'crm-refund', ReservedConcurrentExecutions: 6 });
    expect(withCaps.files['lambda/configure-tool-functions.sh']).toContain(
      `aws lambda put-function-concurrency --function-name '${fn('crm-lookup')}' --reserved-concurrent-executions 6`,
    );
  });

  it('CloudWatch: each alarm with the same metric, statistic, period, M of N, comparison, threshold and missing-data treatment', () => {
    const actions = { 'Fn::If': ['HasAlarmAction', [{ Ref: 'AlarmActionArn' }], { Ref: 'AWS::NoValue' }] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'bedrock-p99',
      Namespace: 'fmguard/prod',
      MetricName: 'latency_ms',
      Dimensions: [{ Name: 'provider', Value: 'aws' }],
      ExtendedStatistic: 'p99',
      Statistic: Match.absent(),
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 20000,
      TreatMissingData: 'missing',
      AlarmActions: actions,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'spend',
      Namespace: 'fmguard/prod',
      MetricName: 'cost_usd',
      Dimensions: [],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 10,
      TreatMissingData: 'ignore',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'refusals-cost',
      MetricName: 'refusals:limit.cost',
      Dimensions: [{ Name: 'tenant', Value: 'acme' }],
      Statistic: 'Sum',
      EvaluationPeriods: 1,
    });
    // error_rate = Sum(errors) / Sum(calls): metric math over the two EMF metrics.
    const stat = (name: string) => ({
      Id: name,
      ReturnData: false,
      MetricStat: { Metric: { Namespace: 'fmguard/prod', MetricName: name, Dimensions: [{ Name: 'agent', Value: 'support-bot' }] }, Period: 60, Stat: 'Sum' },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'support-error-rate',
      Metrics: [stat('errors'), stat('calls'), { Id: 'error_rate', Expression: 'errors / calls', Label: 'error_rate', ReturnData: true }],
      MetricName: Match.absent(),
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0.2,
      TreatMissingData: 'notBreaching',
    });
    const composites = template.findResources('AWS::CloudWatch::CompositeAlarm');
    const [composite] = Object.values(composites) as Array<{ Properties: Record<string, unknown>; DependsOn: string[] }>;
    expect(composite!.Properties).toMatchObject({ AlarmName: 'both', AlarmRule: 'ALARM(support-error-rate) AND NOT OK("bedrock-p99")' });
    expect(composite!.DependsOn.sort()).toEqual(
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: Match.stringLikeRegexp('^(support-error-rate|bedrock-p99)$') } }),
      ).sort(),
    );
    expect(out.report.items).toContainEqual(expect.objectContaining({ subject: 'alarm support-error-rate', message: expect.stringContaining('openBreaker') }));
  });

  it('the SCP is created only when organization targets are given (management account)', () => {
    template.hasResource('AWS::Organizations::Policy', {
      Condition: 'CreateScp',
      Properties: { Type: 'SERVICE_CONTROL_POLICY', Content: out.scp, TargetIds: { Ref: 'OrganizationTargetIds' } },
    });
    template.hasParameter('OrganizationTargetIds', { Type: 'CommaDelimitedList', Default: '' });
    template.hasCondition('CreateScp', { 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'OrganizationTargetIds' }] }, ''] }] });
  });
});

describe('fmguard export aws (the CLI writes the files)', () => {
  const root = join(import.meta.dirname, '..', '..');

  it('the README’s worked example exports: a loop for the support bot, the refund cap in the report', () => {
    const example = loadConfigFile(join(root, 'examples/aws/fmguard.aws.yaml'), { env: { SUPPORT_BOT_KEY: 'sk-example-key-000001' } });
    const result = exportAws(example, { account: ACCOUNT });
    expect(Object.keys(result.stateMachines)).toEqual(['support-bot']);
    expect(aslValidator(substituted(result.stateMachines['support-bot']!)).isValid).toBe(true);
    expect(result.scp!.Statement[0]!.Resource).toEqual([fn('crm-delete-account')]);
    expect(result.files['REPORT.md']).toContain('agent:support-bot:refund-cap');
    Template.fromJSON(result.template).resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('writes the template, the ASL and IAM files, the loop function and the report', () => {
    const { input, dir: policyDir } = exportConfigInput();
    const configFile = join(policyDir, 'fmguard.json');
    writeFileSync(configFile, JSON.stringify(input));
    mkdirSync(join(policyDir, 'lambda', 'refund'), { recursive: true });
    const target = join(mkdtempSync(join(tmpdir(), 'fmguard-export-out-')), 'out');
    const stdout = execFileSync(process.execPath, [BIN, 'export', 'aws', '--config', configFile, '--out', target, '--account', ACCOUNT], {
      encoding: 'utf8',
      cwd: root,
    });
    expect(stdout).toContain('3 state machine(s)');
    for (const file of [
      'template.json',
      'asl/support-bot.asl.json',
      'iam/support-bot.json',
      'iam/scp.json',
      'lambda/agent-loop/index.js',
      'lambda/tool-functions.json',
      'lambda/configure-tool-functions.sh',
      'REPORT.md',
    ]) {
      expect(existsSync(join(target, file)), file).toBe(true);
    }
    const written = JSON.parse(readFileSync(join(target, 'template.json'), 'utf8'));
    // Local code paths are made relative to the template, as `aws cloudformation package` reads them.
    const refund = Object.values(written.Resources as Record<string, { Properties: { FunctionName?: string; Code: unknown } }>).find(
      (r) => r.Properties.FunctionName === 'crm-refund',
    )!;
    expect(refund.Properties.Code).toBe(relative(target, join(policyDir, 'lambda', 'refund')));
    expect(readFileSync(join(target, 'lambda/agent-loop/index.js'), 'utf8')).toBe(readFileSync(join(root, 'src/aws/export/lambda/agent-loop.cjs'), 'utf8'));
  });

  it('bad input is a clear error, and nothing is written', () => {
    const { input, dir: policyDir } = exportConfigInput();
    const configFile = join(policyDir, 'fmguard.json');
    writeFileSync(configFile, JSON.stringify(input));
    const target = join(policyDir, 'never');
    const badAccount = spawnSync(process.execPath, [BIN, 'export', 'aws', '--config', configFile, '--out', target, '--account', '12345'], {
      encoding: 'utf8',
      cwd: root,
    });
    expect(badAccount.status).toBe(1);
    expect(badAccount.stderr).toContain('expected a 12-digit AWS account id');
    const badArn = structuredClone(input) as unknown as { toolServers: { crm: { tools: { lookup_customer: { aws: { lambda: string } } } } } };
    badArn.toolServers.crm.tools.lookup_customer.aws.lambda = 'arn:aws:lambda:us-east-1:123:function:x';
    writeFileSync(configFile, JSON.stringify(badArn));
    const result = spawnSync(process.execPath, [BIN, 'export', 'aws', '--config', configFile, '--out', target], {
      encoding: 'utf8',
      cwd: root,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('toolServers.crm.tools.lookup_customer.aws.lambda');
    expect(existsSync(target)).toBe(false);
  });

  it('the config rejects a bad bedrock region and a Lambda mapping that is neither an ARN nor a function spec', () => {
    const { input } = exportConfigInput();
    const withRegion = structuredClone(input) as unknown as { providers: { aws: { region: string } } };
    withRegion.providers.aws.region = 'mars-1';
    expect(() => parseConfig(withRegion, { baseDir: dir })).toThrow(/providers\.aws\.region: expected an AWS Region/);
    const withSpec = structuredClone(input) as unknown as { toolServers: { crm: { tools: { refund: { aws: { lambda: Record<string, unknown> } } } } } };
    delete withSpec.toolServers.crm.tools.refund.aws.lambda.handler;
    expect(() => parseConfig(withSpec, { baseDir: dir })).toThrow(/toolServers\.crm\.tools\.refund\.aws\.lambda/);
  });
});

import { describe, expect, it } from 'vitest';
import { exportAws, type IamPolicyDocument } from '../../src/aws/export/index.ts';
import { ACCOUNT, exportConfig, exportConfigInput, fn, HAIKU, PROFILE, REGION, SONNET } from './export-fixture.ts';
import { parseConfig } from './helpers.ts';
import { evaluate, FULL_AWS_ACCESS, resourceMatches, type Policy } from './iam-eval.ts';

describe('the test IAM evaluator reproduces the IAM vectors (reference §3)', () => {
  const allow = (s: Partial<Policy['Statement']> & object, version = '2012-10-17'): Policy => ({
    Version: version,
    Statement: { Effect: 'Allow', ...(s as object) } as never,
  });

  it('I1: no policy is an implicit deny', () => {
    expect(evaluate({ identity: [] }, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('DENY');
  });

  it('I2: an explicit deny wins over an allow', () => {
    const policy: Policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*' },
        { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
      ],
    };
    expect(evaluate({ identity: [policy] }, { action: 's3:PutObject', resource: 'arn:aws:s3:::carlos-logs/x' })).toBe('DENY');
    expect(evaluate({ identity: [policy] }, { action: 's3:PutObject', resource: 'arn:aws:s3:::carlos-data/x' })).toBe('ALLOW');
  });

  it('I3: ? is exactly one character, * crosses / within a segment, not the service segment', () => {
    const p = allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/img-??.png' });
    expect(evaluate({ identity: [p] }, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/img-01.png' })).toBe('ALLOW');
    expect(evaluate({ identity: [p] }, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/img-001.png' })).toBe('DENY');
    expect(resourceMatches('arn:aws:*:us-east-1:1:function:f', 'arn:aws:lambda:us-east-1:1:function:f')).toBe(false);
    expect(resourceMatches('arn:aws:bedrock:*::foundation-model/anthropic.*', `arn:aws:bedrock:eu-west-1::foundation-model/${HAIKU}`)).toBe(true);
    expect(resourceMatches('arn:aws:lambda:*:*:function:crm-*', 'arn:aws:lambda:us-east-1:1:function:crm-lookup')).toBe(true);
    expect(resourceMatches('arn:aws:lambda:us-?ast-1:*:function:f', 'arn:aws:lambda:us-east-1:1:function:f')).toBe(true);
    expect(resourceMatches('arn:aws:lambda:us-east-1:*:function:f', 'arn:aws:lambda:us-east-1:1:function:g')).toBe(false);
  });

  it('I4 / I5: string operators are case-sensitive unless IgnoreCase; keys AND, values OR', () => {
    const eq = allow({ Action: 's3:*', Resource: '*', Condition: { StringEquals: { 'aws:username': 'johndoe' } } });
    const ic = allow({ Action: 's3:*', Resource: '*', Condition: { StringEqualsIgnoreCase: { 'aws:username': 'johndoe' } } });
    const req = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: { 'aws:username': 'JohnDoe' } };
    expect(evaluate({ identity: [eq] }, req)).toBe('DENY');
    expect(evaluate({ identity: [ic] }, req)).toBe('ALLOW');
    const i5 = allow({
      Action: 's3:*',
      Resource: '*',
      Condition: { StringEqualsIgnoreCase: { dept: ['finance', 'hr'], role: ['audit'] }, StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
    });
    expect(evaluate({ identity: [i5] }, { ...req, context: { dept: 'HR', role: 'audit', 'aws:PrincipalAccount': '123456789012' } })).toBe('ALLOW');
    expect(evaluate({ identity: [i5] }, { ...req, context: { dept: 'HR', 'aws:PrincipalAccount': '123456789012' } })).toBe('DENY');
  });

  it('I7: a missing key fails the condition, unless …IfExists', () => {
    const mfa = allow({ Action: 'iam:DeactivateMFADevice', Resource: '*', Condition: { NumericLessThanEquals: { 'aws:MultiFactorAuthAge': '3600' } } });
    const ifExists = allow({
      Action: 'iam:DeactivateMFADevice',
      Resource: '*',
      Condition: { NumericLessThanEqualsIfExists: { 'aws:MultiFactorAuthAge': '3600' } },
    });
    const req = { action: 'iam:DeactivateMFADevice', resource: 'arn:aws:iam::1:mfa/x' };
    expect(evaluate({ identity: [mfa] }, req)).toBe('DENY');
    expect(evaluate({ identity: [mfa] }, { ...req, context: { 'aws:MultiFactorAuthAge': 600 } })).toBe('ALLOW');
    expect(evaluate({ identity: [ifExists] }, req)).toBe('ALLOW');
  });

  it('I8: ForAllValues is true for a subset and for an empty set', () => {
    const p = allow({
      Action: 'dynamodb:GetItem',
      Resource: '*',
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['ID', 'Message', 'Tags'] } },
    });
    const req = (attrs: string[]) => ({
      action: 'dynamodb:GetItem',
      resource: 'arn:aws:dynamodb:us-east-1:1:table/t',
      context: { 'dynamodb:Attributes': attrs },
    });
    expect(evaluate({ identity: [p] }, req(['Message', 'Tags']))).toBe('ALLOW');
    expect(evaluate({ identity: [p] }, req(['UserName']))).toBe('DENY');
    expect(evaluate({ identity: [p] }, req([]))).toBe('ALLOW');
  });

  it('I10 / I11: a boundary and an SCP must allow too (intersection)', () => {
    const s3 = allow({ Action: 's3:*', Resource: '*' });
    const boundary = allow({ Action: 's3:GetObject', Resource: '*' });
    expect(evaluate({ identity: [s3], boundary }, { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' })).toBe('DENY');
    expect(evaluate({ identity: [s3], boundary }, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('ALLOW');
    const ec2 = allow({ Action: 'ec2:*', Resource: '*' });
    const onlyS3 = allow({ Action: 's3:*', Resource: '*' });
    expect(evaluate({ identity: [ec2], scps: [onlyS3] }, { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1:1:instance/i' })).toBe('DENY');
  });

  it('I12: Allow + NotAction grants everything else and leaves the listed actions ungranted', () => {
    const p = { Version: '2012-10-17', Statement: { Effect: 'Allow' as const, NotAction: 'iam:*', Resource: '*' } };
    expect(evaluate({ identity: [p] }, { action: 'iam:CreateUser', resource: 'arn:aws:iam::1:user/u' })).toBe('DENY');
    expect(evaluate({ identity: [p] }, { action: 's3:ListBucket', resource: 'arn:aws:s3:::b' })).toBe('ALLOW');
  });

  it('I13: policy variables need Version 2012-10-17; otherwise they are literal text', () => {
    const home = (version: string) => allow({ Action: 's3:*', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' }, version);
    const req = (path: string) => ({ action: 's3:GetObject', resource: `arn:aws:s3:::b/home/${path}`, context: { 'aws:username': 'alice' } });
    expect(evaluate({ identity: [home('2012-10-17')] }, req('alice/f'))).toBe('ALLOW');
    expect(evaluate({ identity: [home('2012-10-17')] }, req('bob/f'))).toBe('DENY');
    expect(evaluate({ identity: [home('2008-10-17')] }, req('alice/f'))).toBe('DENY');
  });

  it('I14: IpAddress matches a CIDR; an absent key (VPC endpoint) fails', () => {
    const p = allow({ Action: 's3:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } });
    const req = (ip?: string) => ({
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/k',
      context: (ip ? { 'aws:SourceIp': ip } : {}) as Record<string, string>,
    });
    expect(evaluate({ identity: [p] }, req('203.0.113.7'))).toBe('ALLOW');
    expect(evaluate({ identity: [p] }, req('198.51.100.1'))).toBe('DENY');
    expect(evaluate({ identity: [p] }, req())).toBe('DENY');
  });
});

describe('exported IAM policies and SCP, evaluated', () => {
  const { config } = exportConfig();
  const out = exportAws(config, { account: ACCOUNT, region: REGION });
  const scps = [FULL_AWS_ACCESS, out.scp as Policy];
  const as = (agent: string) => ({ identity: [out.policies[agent] as Policy], scps });
  const model = (id: string, region = REGION) => `arn:aws:bedrock:${region}::foundation-model/${id}`;
  const invoke = (resource: string, action = 'bedrock:InvokeModel') => ({ action, resource });
  const call = (name: string) => ({ action: 'lambda:InvokeFunction', resource: fn(name) });

  it('an agent may call exactly the Bedrock models its policies allow, streamed or not', () => {
    const bot = as('support-bot');
    expect(evaluate(bot, invoke(model(HAIKU)))).toBe('ALLOW');
    expect(evaluate(bot, invoke(model(HAIKU), 'bedrock:InvokeModelWithResponseStream'))).toBe('ALLOW');
    // Not allowed: implicit deny.
    expect(evaluate(bot, invoke(model(SONNET)))).toBe('DENY');
    expect(evaluate(bot, invoke(model(HAIKU, 'eu-west-1')))).toBe('DENY');
    expect(evaluate(bot, invoke(model(HAIKU), 'bedrock:CreateModelCustomizationJob'))).toBe('DENY');
    // The inference profile and the foundation model it routes to, in any Region.
    expect(evaluate(bot, invoke(`arn:aws:bedrock:${REGION}:${ACCOUNT}:inference-profile/${PROFILE}`))).toBe('ALLOW');
    expect(evaluate(bot, invoke(model(PROFILE.slice(3), 'us-west-2')))).toBe('ALLOW');
    expect(evaluate(as('intern'), invoke(`arn:aws:bedrock:${REGION}:${ACCOUNT}:inference-profile/${PROFILE}`))).toBe('DENY');
  });

  it('tools map to their Lambda functions; static forbids are explicit Deny statements', () => {
    const bot = as('support-bot');
    expect(evaluate(bot, call('crm-lookup'))).toBe('ALLOW');
    expect(evaluate(bot, call('crm-refund'))).toBe('ALLOW');
    expect(evaluate(bot, call('crm-notes'))).toBe('ALLOW');
    expect(evaluate(bot, call('crm-export-all'))).toBe('DENY');
    expect(evaluate(bot, call('crm-delete-account'))).toBe('DENY');
    expect(evaluate(bot, call('some-other-function'))).toBe('DENY');
    const denied = (doc: IamPolicyDocument) => doc.Statement.filter((s) => s.Effect === 'Deny').flatMap((s) => s.Resource ?? []);
    expect(denied(out.policies['support-bot']!)).toEqual([fn('crm-delete-account'), fn('crm-export-all')]);
    // Denied even for an identity that allowed everything: the Deny is explicit, not just absent.
    const everything = { Version: '2012-10-17', Statement: { Effect: 'Allow' as const, Action: '*', Resource: '*' } };
    expect(evaluate({ identity: [everything, out.policies['support-bot'] as Policy] }, call('crm-export-all'))).toBe('DENY');
  });

  it('a function shared by an allowed and a forbidden tool is allowed, and the report says why it cannot be denied', () => {
    expect(evaluate(as('support-bot'), call('kb-tools'))).toBe('ALLOW');
    expect(out.report.items).toContainEqual(
      expect.objectContaining({ agent: 'support-bot', subject: 'tool kb.purge', message: expect.stringContaining('cannot tell the tools apart') }),
    );
  });

  it('the SCP carries the org-wide forbid and denies it for any identity (intersection), not the per-tenant one', () => {
    expect(out.scp!.Statement).toEqual([
      { Sid: 'OrgForbiddenToolFunctions', Effect: 'Deny', Action: ['lambda:InvokeFunction'], Resource: [fn('crm-delete-account')] },
    ]);
    const admin = { identity: [FULL_AWS_ACCESS], scps };
    expect(evaluate(admin, call('crm-delete-account'))).toBe('DENY');
    expect(evaluate(admin, call('crm-lookup'))).toBe('ALLOW');
    // The analyst's own allow list names crm.* but the global forbid wins, in its policy and in the SCP.
    expect(evaluate(as('analyst'), call('crm-delete-account'))).toBe('DENY');
    expect(evaluate(as('analyst'), call('crm-export-all'))).toBe('ALLOW');
    // Tenant beta's forbid on claude-sonnet is not org-wide: an identity Deny for the intern only.
    expect(evaluate(as('intern'), invoke(model(SONNET)))).toBe('DENY');
    expect(evaluate(as('analyst'), invoke(model(SONNET)))).toBe('ALLOW');
    expect(out.policies.intern!.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Resource: [model(SONNET)] }));
  });

  it('the org ceiling (an org-level allow list) becomes SCP Deny statements on everything outside it', () => {
    const withCeiling = { ...config, ceiling: { models: ['claude-haiku'], tools: ['crm.lookup_customer'] } };
    const scp = exportAws(withCeiling as typeof config, { account: ACCOUNT, region: REGION }).scp as Policy;
    const admin = { identity: [FULL_AWS_ACCESS], scps: [FULL_AWS_ACCESS, scp] };
    expect(evaluate(admin, invoke(model(HAIKU)))).toBe('ALLOW');
    expect(evaluate(admin, invoke(model(SONNET)))).toBe('DENY');
    expect(evaluate(admin, invoke('arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0'))).toBe('DENY');
    expect(evaluate(admin, call('crm-lookup'))).toBe('ALLOW');
    expect(evaluate(admin, call('crm-refund'))).toBe('DENY');
    // Other services are untouched by the ceiling.
    expect(evaluate(admin, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('ALLOW');
  });

  it('I11: `ceiling` is a real config key; fmguard and the export agree on agent allows ∩ ceiling − forbids (issue 12 item 6)', () => {
    const { input, dir } = exportConfigInput();
    const parsed = parseConfig({ ...input, ceiling: { models: ['claude-haiku'], tools: ['crm.lookup_*'] } }, { baseDir: dir });
    expect(parsed.ceiling).toEqual({ models: ['claude-haiku'], tools: ['crm.lookup_*'] });
    const exported = exportAws(parsed, { account: ACCOUNT, region: REGION });
    const scp = exported.scp as Policy;
    expect(scp.Statement).toContainEqual(
      expect.objectContaining({ Sid: 'CeilingModels', Effect: 'Deny', NotResource: expect.arrayContaining([model(HAIKU)]) }),
    );
    // The analyst's own policy allows every model (identity Allow *); the ceiling allows only haiku: sonnet is denied, as fmguard denies it.
    const analyst = { identity: [exported.policies.analyst as Policy], scps: [FULL_AWS_ACCESS, scp] };
    expect(evaluate(analyst, invoke(model(HAIKU)))).toBe('ALLOW');
    expect(evaluate(analyst, invoke(model(SONNET)))).toBe('DENY');
    expect(evaluate(analyst, call('crm-lookup'))).toBe('ALLOW');
    expect(evaluate(analyst, call('crm-refund'))).toBe('DENY');
    // Even without the SCP attached, the agents' identity policies carry the ceiling (an org-wide forbid in fmguard).
    expect(evaluate({ identity: [exported.policies.analyst as Policy] }, invoke(model(SONNET)))).toBe('DENY');
  });

  it('what IAM cannot express is in the report, never dropped: argument conditions, approvals, non-AWS models and tools', () => {
    const items = out.report.items;
    const about = (agent: string, subject: string) => items.filter((i) => i.agent === agent && i.subject === subject).map((i) => i.message);
    expect(about('support-bot', 'tool crm.refund').join('\n')).toMatch(/agent:support-bot:refund-cap at .*support\.cedar:2/);
    expect(about('support-bot', 'tool crm.refund').join('\n')).toContain('global:no-big-refunds');
    expect(about('support-bot', 'tool crm.notes').join('\n')).toContain('needs a human approval for every call');
    expect(items).toContainEqual(expect.objectContaining({ subject: 'model gpt', message: expect.stringContaining('not Bedrock') }));
    expect(items).toContainEqual(expect.objectContaining({ subject: 'tool local.grep', message: expect.stringContaining('not mapped to AWS') }));
    expect(out.files['REPORT.md']).toContain('refund-cap');
  });

  it('an agent allowed nothing keeps only its explicit Deny statements; with nothing at all, a policy that says so', () => {
    const none = exportAws(
      { ...config, agents: { ...config.agents, intern: { ...config.agents.intern!, allow: { models: [], tools: [] } } } },
      { account: ACCOUNT, region: REGION },
    );
    expect(none.policies.intern!.Statement.every((s) => s.Effect === 'Deny')).toBe(true);
    expect(evaluate({ identity: [none.policies.intern as Policy] }, invoke(model(HAIKU)))).toBe('DENY');
    expect(none.report.items).toContainEqual(
      expect.objectContaining({ agent: 'intern', subject: 'agent loop', message: expect.stringContaining('no state machine') }),
    );
    const bare = exportAws(parseConfig({ store: { kind: 'memory' }, tenants: { t: {} }, agents: { idle: { tenant: 't' } } }));
    expect(bare.policies.idle!.Statement).toEqual([
      {
        Sid: 'NothingAllowed',
        Effect: 'Deny',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream', 'lambda:InvokeFunction'],
        Resource: ['*'],
      },
    ]);
    expect(bare.scp).toBeUndefined();
  });

  it('without an account the ARNs match any account', () => {
    const anyAccount = exportAws(config, { region: REGION });
    expect(anyAccount.policies['support-bot']!.Statement[0]!.Resource).toContain(`arn:aws:bedrock:${REGION}:*:inference-profile/${PROFILE}`);
    expect(
      evaluate({ identity: [anyAccount.policies['support-bot'] as Policy] }, invoke(`arn:aws:bedrock:${REGION}:999999999999:inference-profile/${PROFILE}`)),
    ).toBe('ALLOW');
  });
});

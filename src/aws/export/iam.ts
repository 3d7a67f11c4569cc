import type { AccessDecision, AccessOracle, PolicyRef } from './access.ts';
import type { ArnContext } from './arn.ts';
import type { AwsModel, AwsTool, Inventory } from './inventory.ts';
import type { ExportReport } from './report.ts';
import { globMatches, type FmguardConfig, type ResolvedAgent } from './sources.ts';

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource?: string[];
  NotResource?: string[];
}

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

/** Converse needs InvokeModel; ConverseStream needs InvokeModelWithResponseStream. */
export const MODEL_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];
export const TOOL_ACTIONS = ['lambda:InvokeFunction'];

const refs = (list: PolicyRef[]) => list.map((p) => `${p.id} at ${p.where}`).join('; ');
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/**
 * An agent's identity policy: exactly the Bedrock models and Lambda tools its policies can allow
 * (IAM is the ceiling: it never denies what fmguard could allow), static forbids as explicit Deny.
 * What only a request can decide (conditions on tool arguments, run counters, the hour, approvals)
 * is allowed here and listed in the report, as fmguard keeps enforcing it.
 */
export function agentIdentityPolicy(agent: ResolvedAgent, inv: Inventory, oracle: AccessOracle, report: ExportReport): IamPolicyDocument {
  const allowModels = new Set<string>();
  const denyModels = new Set<string>();
  for (const model of inv.models) {
    const decision = oracle.decide(agent.name, 'invokeModel', model.name);
    apply(decision, model.arns, allowModels, denyModels);
    explain(report, agent.name, `model ${model.name}`, decision);
  }

  const allowTools = new Set<string>();
  const toolDecisions = new Map<AwsTool, AccessDecision>();
  for (const tool of inv.tools) {
    const decision = oracle.decide(agent.name, 'callTool', tool.name);
    toolDecisions.set(tool, decision);
    if (decision.effect === 'allow') allowTools.add(tool.lambdaArn);
    explain(report, agent.name, `tool ${tool.name}`, decision);
  }
  // IAM sees functions, not tools: a function shared with an allowed tool cannot be denied.
  const denyTools = new Set<string>();
  for (const [tool, decision] of toolDecisions) {
    if (decision.effect !== 'deny') continue;
    if (allowTools.has(tool.lambdaArn)) {
      report.add({
        area: 'iam',
        agent: agent.name,
        subject: `tool ${tool.name}`,
        message: `forbidden (${refs(decision.policies)}), but its Lambda function ${tool.lambdaArn} also serves a tool the agent may call: IAM cannot tell the tools apart, so no Deny is exported`,
      });
    } else denyTools.add(tool.lambdaArn);
  }
  for (const arn of [...denyModels]) {
    if (allowModels.has(arn)) {
      denyModels.delete(arn);
      report.add({
        area: 'iam',
        agent: agent.name,
        subject: arn,
        message:
          'a forbidden model shares this resource with an allowed one (an inference profile routes to the same foundation model): no Deny is exported for it',
      });
    }
  }

  const statements: IamStatement[] = [];
  if (allowModels.size > 0) statements.push({ Sid: 'AllowBedrockModels', Effect: 'Allow', Action: MODEL_ACTIONS, Resource: sorted(allowModels) });
  if (allowTools.size > 0) statements.push({ Sid: 'AllowToolFunctions', Effect: 'Allow', Action: TOOL_ACTIONS, Resource: sorted(allowTools) });
  if (denyModels.size > 0) statements.push({ Sid: 'DenyForbiddenModels', Effect: 'Deny', Action: MODEL_ACTIONS, Resource: sorted(denyModels) });
  if (denyTools.size > 0) statements.push({ Sid: 'DenyForbiddenTools', Effect: 'Deny', Action: TOOL_ACTIONS, Resource: sorted(denyTools) });
  if (statements.length === 0) {
    // A policy needs a statement; this one says what fmguard says: nothing on AWS.
    statements.push({ Sid: 'NothingAllowed', Effect: 'Deny', Action: [...MODEL_ACTIONS, ...TOOL_ACTIONS], Resource: ['*'] });
  }
  if (agent.policyMode === 'shadow') {
    report.add({
      area: 'iam',
      agent: agent.name,
      subject: 'policy mode',
      message: 'shadow: fmguard reports denials but lets calls through; the exported IAM policy enforces them',
      source: `agents.${agent.name}.policyMode`,
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

function apply(decision: AccessDecision, arns: string[], allow: Set<string>, deny: Set<string>): void {
  if (decision.effect === 'allow') for (const arn of arns) allow.add(arn);
  else if (decision.effect === 'deny') for (const arn of arns) deny.add(arn);
}

/** Report what IAM leaves to fmguard for one resource. */
function explain(report: ExportReport, agent: string, subject: string, decision: AccessDecision): void {
  if (decision.effect !== 'allow') return;
  if (decision.conditions.length > 0) {
    report.add({
      area: 'iam',
      agent,
      subject,
      message: `allowed in IAM, but fmguard allows it only when these conditions hold (tool arguments, run counters or time, which IAM cannot test): ${refs(decision.conditions)}`,
    });
  }
  if (decision.approval !== 'never') {
    report.add({
      area: 'iam',
      agent,
      subject,
      message: `needs a human approval ${decision.approval === 'always' ? 'for every call' : 'for some calls'}: IAM has no approvals; allowed in IAM`,
      source: refs(decision.policies.filter((p) => p.effect === 'permit')),
    });
  }
}

/**
 * The org ceiling: the config's `ceiling: { models, tools }`, the org-level list of what may ever be
 * allowed (fmguard enforces it as org-wide forbids; here it becomes SCP Deny statements with
 * NotResource). Undefined when the config has none.
 */
export function orgCeiling(config: FmguardConfig): { models?: string[]; tools?: string[] } | undefined {
  return config.ceiling;
}

/** `*` and `?` patterns as in the config's allow lists (the policy engine's own matcher). */
function matches(pattern: string, name: string): boolean {
  return globMatches(pattern, name);
}

/** The ceiling as SCP statements: deny every model and tool function outside it (NotResource). */
export function orgCeilingStatements(config: FmguardConfig, inv: Inventory): IamStatement[] {
  const ceiling = orgCeiling(config);
  if (!ceiling) return [];
  const statements: IamStatement[] = [];
  if (ceiling.models) {
    const inside = inv.models.filter((m) => ceiling.models!.some((p) => matches(p, m.name)));
    statements.push({
      Sid: 'CeilingModels',
      Effect: 'Deny',
      Action: MODEL_ACTIONS,
      NotResource: inside.length > 0 ? sorted(inside.flatMap((m) => m.arns)) : ['arn:aws:bedrock:none::foundation-model/none'],
    });
  }
  if (ceiling.tools) {
    const inside = inv.tools.filter((t) => ceiling.tools!.some((p) => matches(p, t.name)));
    statements.push({
      Sid: 'CeilingToolFunctions',
      Effect: 'Deny',
      Action: TOOL_ACTIONS,
      NotResource: inside.length > 0 ? sorted(inside.map((t) => t.lambdaArn)) : ['arn:aws:lambda:none:000000000000:function:none'],
    });
  }
  return statements;
}

/**
 * The SCP: what no agent of the organisation may ever do. The org-wide forbids of `policies.global`
 * become explicit Deny statements (an SCP only filters; it grants nothing), plus the org ceiling.
 * Undefined when there is nothing org-wide to deny.
 */
export function serviceControlPolicy(config: FmguardConfig, inv: Inventory, oracle: AccessOracle, report: ExportReport): IamPolicyDocument | undefined {
  const models: AwsModel[] = inv.models.filter((m) => oracle.decideOrg('invokeModel', m.name).effect === 'deny');
  const tools: AwsTool[] = inv.tools.filter((t) => oracle.decideOrg('callTool', t.name).effect === 'deny');
  const statements: IamStatement[] = [];
  if (models.length > 0) statements.push({ Sid: 'OrgForbiddenModels', Effect: 'Deny', Action: MODEL_ACTIONS, Resource: sorted(models.flatMap((m) => m.arns)) });
  if (tools.length > 0)
    statements.push({ Sid: 'OrgForbiddenToolFunctions', Effect: 'Deny', Action: TOOL_ACTIONS, Resource: sorted(tools.map((t) => t.lambdaArn)) });
  statements.push(...orgCeilingStatements(config, inv));
  if (config.globalPolicyFiles.length > 0 && statements.length === 0) {
    report.add({
      area: 'scp',
      agent: '*',
      subject: 'policies.global',
      message:
        "no global policy forbids a Bedrock model or Lambda tool for every agent: no SCP is exported (conditional or per-tenant global policies stay in the agents' identity policies and the report)",
    });
  }
  return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
}

export type { ArnContext };

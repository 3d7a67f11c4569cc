import { readFileSync } from 'node:fs';
import { createAccessOracle } from './access.ts';
import { alarmResources } from './alarms.ts';
import type { ArnContext } from './arn.ts';
import { agentIdentityPolicy, serviceControlPolicy, type IamPolicyDocument } from './iam.ts';
import { inventory, type Inventory } from './inventory.ts';
import { ExportReport } from './report.ts';
import { DEFAULT_EMF_NAMESPACE, type FmguardConfig } from './sources.ts';
import { agentStateMachine, planAgentLoop, type AslStateMachine } from './state-machine.ts';
import { cloudFormationTemplate, LOOP_CODE_DIR } from './template.ts';
import { configureScript, toolFunctionSettings, type ToolFunctionSettings } from './tools.ts';

export { createAccessOracle, type AccessDecision, type AccessOracle } from './access.ts';
export {
  agentIdentityPolicy,
  serviceControlPolicy,
  orgCeiling,
  orgCeilingStatements,
  MODEL_ACTIONS,
  TOOL_ACTIONS,
  type IamPolicyDocument,
  type IamStatement,
} from './iam.ts';
export { alarmResources, metricAlarmResource, compositeAlarmResource, scopeDimensions } from './alarms.ts';
export { aslRetry, aslErrorNames, codesOf, modelCatchers, toolCatchers, stopStateName, type AslRetrier } from './retry.ts';
export {
  agentStateMachine,
  planAgentLoop,
  loopSettings,
  modelFamily,
  LOOP_FUNCTION_PLACEHOLDER,
  BEDROCK_INVOKE_MODEL,
  type AslStateMachine,
} from './state-machine.ts';
export { toolFunctionSettings, reservedConcurrencyFor, type ToolFunctionSettings } from './tools.ts';
export { modelArns, lambdaArn, type ArnContext } from './arn.ts';
export { ExportReport, type ReportItem } from './report.ts';

export interface ExportOptions {
  /** Default `aws`. */
  partition?: string;
  /** Default: the first Bedrock provider's Region, else `*`. */
  region?: string;
  /** Default `*` (policies then match the resource in any account). */
  account?: string;
  /** A created tool function's `code` as the template should name it (the CLI makes paths relative to the output folder). */
  codeLocation?: (code: string) => string;
}

export interface AwsExport {
  /** Relative path → content, ready to write. */
  files: Record<string, string>;
  template: Record<string, unknown>;
  stateMachines: Record<string, AslStateMachine>;
  policies: Record<string, IamPolicyDocument>;
  scp?: IamPolicyDocument;
  toolFunctions: ToolFunctionSettings[];
  inventory: Inventory;
  report: ExportReport;
}

/** The agent-loop function's source, shipped as the function's index.js. */
export function agentLoopSource(): string {
  return readFileSync(new URL('./lambda/agent-loop.cjs', import.meta.url), 'utf8');
}

function defaultRegion(config: FmguardConfig): string {
  for (const provider of Object.values(config.providers)) if (provider.kind === 'bedrock' && provider.region) return provider.region;
  return '*';
}

function s3Location(code: string): { S3Bucket: string; S3Key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(code);
  return match ? { S3Bucket: match[1]!, S3Key: match[2]! } : undefined;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * The AWS resources that enforce a config's safeguards, as pure data: IAM identity policies per agent,
 * the SCP, the CloudWatch alarms, the Step Functions agent loops, the tool functions' settings, one
 * CloudFormation template with all of it, and the report of what AWS cannot express.
 */
export function exportAws(config: FmguardConfig, options: ExportOptions = {}): AwsExport {
  const ctx: ArnContext = { partition: options.partition ?? 'aws', region: options.region ?? defaultRegion(config), account: options.account ?? '*' };
  const report = new ExportReport();
  const oracle = createAccessOracle(config);
  const inv = inventory(config, ctx, report);

  const policies: Record<string, IamPolicyDocument> = {};
  const stateMachines: Record<string, AslStateMachine> = {};
  for (const agent of Object.values(config.agents)) {
    policies[agent.name] = agentIdentityPolicy(agent, inv, oracle, report);
    const plan = planAgentLoop(agent, inv, oracle, report);
    if (plan) stateMachines[agent.name] = agentStateMachine(plan, report);
  }
  const scp = serviceControlPolicy(config, inv, oracle, report);
  const namespace = config.metrics.emf?.namespace ?? DEFAULT_EMF_NAMESPACE;
  if (config.alarms.length > 0 && !config.metrics.emf) {
    report.add({
      area: 'cloudwatch',
      agent: '*',
      subject: 'metrics',
      message: `the alarms read namespace "${namespace}": turn on metrics.emf so fmguard publishes the metrics they watch`,
    });
  }
  const alarms = alarmResources(config, namespace, report);
  const toolFunctions = toolFunctionSettings(config, inv, oracle, report);
  const codeLocation = options.codeLocation ?? ((code: string) => code);

  const template = cloudFormationTemplate({
    description: `fmguard safeguards for ${Object.keys(config.agents).length} agent(s): IAM, Step Functions agent loops, Lambda tool settings and CloudWatch alarms (fmguard export aws)`,
    agents: Object.values(config.agents).map((a) => ({ name: a.name, policy: policies[a.name]!, stateMachine: stateMachines[a.name] })),
    alarms,
    toolFunctions,
    tools: inv.tools,
    scp,
    codeLocation: (code) => s3Location(code) ?? codeLocation(code),
  });

  const files: Record<string, string> = { 'template.json': json(template) };
  for (const [agent, machine] of Object.entries(stateMachines)) files[`asl/${agent}.asl.json`] = json(machine);
  for (const [agent, policy] of Object.entries(policies)) files[`iam/${agent}.json`] = json(policy);
  if (scp) files['iam/scp.json'] = json(scp);
  if (Object.keys(stateMachines).length > 0) files[`${LOOP_CODE_DIR}/index.js`] = agentLoopSource();
  files['lambda/tool-functions.json'] = json(toolFunctions);
  if (toolFunctions.some((f) => !f.created)) files['lambda/configure-tool-functions.sh'] = configureScript(toolFunctions);
  files['REPORT.md'] = report.toMarkdown();
  return { files, template, stateMachines, policies, scp, toolFunctions, inventory: inv, report };
}

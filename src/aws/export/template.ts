import { ALARM_ACTION_PARAMETER, HAS_ALARM_ACTION, type CfnResource } from './alarms.ts';
import { logicalId, toolFunctionPlaceholder } from './arn.ts';
import type { IamPolicyDocument } from './iam.ts';
import type { AslStateMachine } from './state-machine.ts';
import type { ToolFunctionSettings } from './tools.ts';
import type { AwsTool } from './inventory.ts';

/** Where the agent-loop function's code sits in the export folder (`aws cloudformation package` uploads it). */
export const LOOP_CODE_DIR = 'lambda/agent-loop';
export const LOOP_RUNTIME = 'nodejs20.x';

export interface TemplateInput {
  description: string;
  agents: Array<{ name: string; policy: IamPolicyDocument; stateMachine?: AslStateMachine }>;
  alarms: Record<string, CfnResource>;
  toolFunctions: ToolFunctionSettings[];
  tools: AwsTool[];
  scp?: IamPolicyDocument;
  /** A created tool function's code location as the template names it (a path relative to the template, or S3). */
  codeLocation: (code: string) => string | { S3Bucket: string; S3Key: string };
}

const LAMBDA_BASIC = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' };

function lambdaRole(): CfnResource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ManagedPolicyArns: [LAMBDA_BASIC],
    },
  };
}

/** A state machine name: 1-80 letters, digits, `-` and `_`. */
function machineName(agent: string): string {
  return `fmguard-${agent.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 80);
}

/**
 * One CloudFormation template with everything: per agent its identity policy (a managed policy), the
 * role its state machine runs as, and the state machine; the agent-loop function; the tool functions
 * the stack creates (timeout, reserved concurrency); the alarms; the SCP when an organization target
 * is given (deploy from the management account).
 */
export function cloudFormationTemplate(input: TemplateInput): Record<string, unknown> {
  const resources: Record<string, CfnResource> = {};
  const outputs: Record<string, unknown> = {};
  const parameters: Record<string, unknown> = {
    [ALARM_ACTION_PARAMETER]: {
      Type: 'String',
      Default: '',
      Description: 'An SNS topic (or other alarm action) ARN notified when an fmguard alarm changes state; empty for none.',
    },
  };
  const conditions: Record<string, unknown> = {
    [HAS_ALARM_ACTION]: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: ALARM_ACTION_PARAMETER }, ''] }] },
  };

  const needsLoop = input.agents.some((a) => a.stateMachine);
  if (needsLoop) {
    resources.AgentLoopRole = lambdaRole();
    resources.AgentLoopFunction = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: 'fmguard agent loop: cost and token arithmetic for the exported state machines',
        Runtime: LOOP_RUNTIME,
        Handler: 'index.handler',
        Code: LOOP_CODE_DIR,
        Timeout: 30,
        MemorySize: 256,
        Role: { 'Fn::GetAtt': ['AgentLoopRole', 'Arn'] },
      },
    };
  }

  const created = input.toolFunctions.filter((f) => f.created);
  if (created.length > 0) resources.ToolFunctionRole = lambdaRole();
  const substitutions: Record<string, unknown> = {};
  for (const settings of created) {
    const tool = input.tools.find((t) => t.name === settings.tools[0])!;
    const lambda = tool.mapping.lambda as Exclude<AwsTool['mapping']['lambda'], string>;
    const id = logicalId('ToolFunction', lambda.functionName);
    resources[id] = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: lambda.functionName,
        Description: `fmguard tool ${settings.tools.join(', ')}`,
        Runtime: lambda.runtime,
        Handler: lambda.handler,
        Code: input.codeLocation(lambda.code),
        Timeout: settings.timeoutSeconds,
        ...(lambda.memorySize !== undefined ? { MemorySize: lambda.memorySize } : {}),
        ...(settings.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: settings.reservedConcurrency } : {}),
        Role: { 'Fn::GetAtt': ['ToolFunctionRole', 'Arn'] },
      },
    };
    substitutions[toolFunctionPlaceholder(lambda.functionName)] = { 'Fn::GetAtt': [id, 'Arn'] };
  }

  for (const agent of input.agents) {
    const policyId = logicalId('AgentPolicy', agent.name);
    resources[policyId] = {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: { Description: `fmguard: what agent ${agent.name} may call on AWS`, PolicyDocument: agent.policy },
    };
    if (!agent.stateMachine) continue;
    const roleId = logicalId('AgentRole', agent.name);
    const machineId = logicalId('StateMachine', agent.name);
    resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `fmguard: the identity agent ${agent.name}'s state machine runs as`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        ManagedPolicyArns: [{ Ref: policyId }],
        Policies: [
          {
            PolicyName: 'fmguard-agent-loop',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['AgentLoopFunction', 'Arn'] } }],
            },
          },
        ],
      },
    };
    resources[machineId] = {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: machineName(agent.name),
        StateMachineType: 'STANDARD',
        Definition: agent.stateMachine,
        DefinitionSubstitutions: { AgentLoopFunctionArn: { 'Fn::GetAtt': ['AgentLoopFunction', 'Arn'] }, ...substitutions },
        RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      },
    };
    outputs[`${machineId}Arn`] = { Description: `State machine of agent ${agent.name}`, Value: { Ref: machineId } };
  }

  Object.assign(resources, input.alarms);

  if (input.scp) {
    parameters.OrganizationTargetIds = {
      Type: 'CommaDelimitedList',
      Default: '',
      Description: 'Organization root, OU or account ids to attach the fmguard SCP to; empty to skip (deploy from the management account).',
    };
    conditions.CreateScp = { 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'OrganizationTargetIds' }] }, ''] }] };
    resources.OrgServiceControlPolicy = {
      Type: 'AWS::Organizations::Policy',
      Condition: 'CreateScp',
      Properties: {
        Name: 'fmguard-org-safeguards',
        Description: 'fmguard: what no agent of the organization may call',
        Type: 'SERVICE_CONTROL_POLICY',
        Content: input.scp,
        TargetIds: { Ref: 'OrganizationTargetIds' },
      },
    };
  }

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: input.description,
    Parameters: parameters,
    Conditions: conditions,
    Resources: resources,
    ...(Object.keys(outputs).length > 0 ? { Outputs: outputs } : {}),
  };
}

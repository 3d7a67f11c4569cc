import type { AwsToolConfig, FmguardConfig, ResolvedModel } from './sources.ts';

/** Where the exported resources live; `*` where the export was not told (the policy then matches any). */
export interface ArnContext {
  partition: string;
  region: string;
  account: string;
}

/** Cross-Region inference profile ids start with a geography (`us.anthropic.claude-…`). */
const PROFILE_PREFIX = /^(us|eu|apac|global|us-gov|jp|au|ca)\./;

/** The Bedrock model id a model is called with: its upstream name, else its own name. */
export function bedrockModelId(model: ResolvedModel): string {
  return model.upstreamModel ?? model.name;
}

/** Whether a model is served by a `kind: bedrock` provider (only those have AWS resources). */
export function isBedrockModel(config: FmguardConfig, model: ResolvedModel): boolean {
  return config.providers[model.provider]?.kind === 'bedrock';
}

/** The Region a Bedrock model is called in: its provider's, else the export's. */
export function modelRegion(config: FmguardConfig, model: ResolvedModel, ctx: ArnContext): string {
  const provider = config.providers[model.provider];
  return (provider?.kind === 'bedrock' && provider.region) || ctx.region;
}

/**
 * The resources a call to this model touches, for IAM. A foundation model id: its ARN in the Region.
 * An inference profile id: the profile's ARN, plus the foundation model in every Region (a
 * cross-Region profile routes to several; IAM checks the model ARN where the call lands). An ARN
 * (application inference profile, provisioned throughput): itself.
 */
export function modelArns(config: FmguardConfig, model: ResolvedModel, ctx: ArnContext): string[] {
  const id = bedrockModelId(model);
  if (id.startsWith('arn:')) return [id];
  const region = modelRegion(config, model, ctx);
  if (PROFILE_PREFIX.test(id)) {
    return [
      `arn:${ctx.partition}:bedrock:${region}:${ctx.account}:inference-profile/${id}`,
      `arn:${ctx.partition}:bedrock:*::foundation-model/${id.replace(PROFILE_PREFIX, '')}`,
    ];
  }
  return [`arn:${ctx.partition}:bedrock:${region}::foundation-model/${id}`];
}

/** The ARN of a tool's Lambda function: given, or built from the function the stack creates. */
export function lambdaArn(mapping: AwsToolConfig, ctx: ArnContext): string {
  const lambda = mapping.lambda;
  return typeof lambda === 'string' ? lambda : `arn:${ctx.partition}:lambda:${ctx.region}:${ctx.account}:function:${lambda.functionName}`;
}

/** A CloudFormation logical id (alphanumeric) from any name, unique per distinct name. */
export function logicalId(prefix: string, name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const body = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  let hash = 0;
  for (const ch of name) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  return `${prefix}${body}${hash.toString(36).slice(0, 5)}`.slice(0, 255);
}

/**
 * A DefinitionSubstitutions key for the ARN of a tool function the stack creates (its ARN is only
 * known once deployed): `${ToolFunctionSearchArn}` in the state machine definition.
 */
export function toolFunctionPlaceholder(functionName: string): string {
  const words = functionName.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return `ToolFunction${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Arn`;
}

/** What a state machine's Task names as the tool's Lambda: its ARN, or the placeholder of a created one. */
export function toolTaskResource(mapping: AwsToolConfig, arn: string): string {
  return typeof mapping.lambda === 'string' ? arn : '${' + toolFunctionPlaceholder(mapping.lambda.functionName) + '}';
}

import { bedrockModelId, isBedrockModel, lambdaArn, modelArns, type ArnContext } from './arn.ts';
import type { ExportReport } from './report.ts';
import {
  demoToolServerSpec,
  toolCatcherSpecs,
  toolRetriers,
  type AwsToolConfig,
  type Catcher,
  type Retrier,
  type FmguardConfig,
  type ResolvedModel,
} from './sources.ts';

/** A model served by Bedrock, with the resources a call to it touches. */
export interface AwsModel {
  name: string;
  modelId: string;
  region: string;
  arns: string[];
  model: ResolvedModel;
}

/** A tool that runs as a Lambda function. */
export interface AwsTool {
  /** `server.tool`, as policies name it. */
  name: string;
  server: string;
  tool: string;
  lambdaArn: string;
  mapping: AwsToolConfig;
  /** The tool's own timeout (config `toolServers.<s>.tools.<t>.timeoutMs`), if set. */
  timeoutMs?: number;
  description?: string;
  inputSchema?: Record<string, unknown>;
  /** Its retriers: only when the config gives it a `retry` and marks it `idempotent` (else none, as in fmguard). */
  retry: Retrier[];
  /** Its catchers (config `toolServers.<s>.tools.<t>.catch`): a fallback tool per error, as in fmguard. */
  catch: Catcher[];
}

export interface Inventory {
  models: AwsModel[];
  tools: AwsTool[];
}

/**
 * The models and tools of the config that live on AWS: models of `kind: bedrock` providers, tools
 * mapped to a Lambda function (per tool, or for their whole server). Everything else is reported.
 */
export function inventory(config: FmguardConfig, ctx: ArnContext, report: ExportReport): Inventory {
  const models: AwsModel[] = [];
  for (const model of Object.values(config.models)) {
    if (!isBedrockModel(config, model)) {
      report.add({
        area: 'iam',
        agent: '*',
        subject: `model ${model.name}`,
        message: `served by provider "${model.provider}" (kind ${config.providers[model.provider]?.kind}), not Bedrock: no AWS resource, no IAM statement`,
        source: `models.${model.name}.provider`,
      });
      continue;
    }
    const arns = modelArns(config, model, ctx);
    models.push({ name: model.name, modelId: bedrockModelId(model), region: arns[0]!.split(':')[3]!, arns, model });
  }

  const tools: AwsTool[] = [];
  for (const [server, entry] of Object.entries(config.toolServers)) {
    const declared: Array<[string, { description?: string; inputSchema?: Record<string, unknown>; timeoutMs?: number; aws?: AwsToolConfig }]> = Object.entries(
      entry.tools ?? {},
    );
    if (declared.length === 0 && entry.kind === 'builtin') {
      for (const t of demoToolServerSpec(server).tools) declared.push([t.name, { inputSchema: t.inputSchema }]);
    }
    if (entry.aws && declared.length === 0) {
      report.add({
        area: 'lambda',
        agent: '*',
        subject: `tool server ${server}`,
        message: 'mapped to a Lambda function but lists no tools: list them under tools so each can be allowed or denied',
        source: `toolServers.${server}.aws`,
      });
    }
    for (const [tool, spec] of declared) {
      const name = `${server}.${tool}`;
      const mapping = spec.aws ?? entry.aws;
      if (!mapping) {
        report.add({
          area: 'lambda',
          agent: '*',
          subject: `tool ${name}`,
          message: 'not mapped to AWS (no aws.lambda): no IAM statement, not callable from the exported state machines',
          source: `toolServers.${server}.tools.${tool}`,
        });
        continue;
      }
      tools.push({
        name,
        server,
        tool,
        lambdaArn: lambdaArn(mapping, ctx),
        mapping,
        timeoutMs: spec.timeoutMs,
        description: spec.description,
        inputSchema: spec.inputSchema,
        retry: toolRetriers(config, name),
        catch: toolCatcherSpecs(config, name),
      });
    }
  }
  return { models, tools };
}

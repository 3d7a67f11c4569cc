/**
 * `fmguard/aws`: the AWS side of fmguard. `exportAws` turns the config fmguard enforces into the AWS
 * resources that enforce the same rules (IAM, CloudWatch alarms, Step Functions, Lambda settings, one
 * CloudFormation template); `createBedrockProvider` is the Bedrock upstream (the AWS SDK, an optional
 * peer dependency, loads on its first call).
 */
export { exportAws, type AwsExport, type ExportOptions } from './export/index.ts';
export { createBedrockProvider, type BedrockProviderOptions } from '../providers/bedrock/index.ts';

/** Amazon Bedrock (Converse / ConverseStream) as an upstream: `kind: bedrock` in the config. */
export { createBedrockProvider, type BedrockProviderOptions } from './provider.ts';
export { BEDROCK_ERRORS, toProviderError } from './errors.ts';
export { toConverseRequest, fromConverseResponse, toChatUsage, toFinishReason } from './translate.ts';
export { ConverseStreamTranslator } from './stream.ts';

import type { LanguageModelMiddleware } from 'ai';

/**
 * The AI SDK's language-model (v3 specification) types, derived from what `ai` exports, so the adapter
 * needs no package beyond its peer dependency.
 */
type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;

export type CallOptions = Parameters<WrapGenerate>[0]['params'];
export type WrappedModel = Parameters<WrapGenerate>[0]['model'];
export type GenerateResult = Awaited<ReturnType<WrapGenerate>>;
export type StreamResult = Awaited<ReturnType<WrapStream>>;
export type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
export type PromptMessage = CallOptions['prompt'][number];
export type ModelUsage = GenerateResult['usage'];
export type FinishReasonV3 = GenerateResult['finishReason'];
export type ContentPart = GenerateResult['content'][number];

import { absent, invalid, isObject, type Json, optionalNumber, optionalString, requireModel, typeName } from './checks.ts';

/** An OpenAI embeddings request: text, texts, or token arrays. */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [key: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Floats, or base64 of little-endian float32 when `encoding_format` is `base64`. */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** OpenAI's own bounds: 2048 inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;
const PER_INPUT_OVERHEAD = 4;

function isTokens(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t) && t >= 0);
}

/** Check an embeddings body; returns it typed, or throws `request.invalid` naming the field. */
export function parseEmbeddingsRequest(body: unknown, hasModel: (name: string) => boolean): EmbeddingsRequest {
  if (!isObject(body)) throw invalid('body', `the request body must be a JSON object, got ${typeName(body)}`);
  requireModel(body, hasModel);
  const input = body.input;
  const list = typeof input === 'string' || isTokens(input) ? [input] : Array.isArray(input) ? input : undefined;
  if (!list) throw invalid('input', `expected a string, an array of strings or token arrays, got ${typeName(input)}`);
  if (list.length === 0) throw invalid('input', 'expected at least one input');
  if (list.length > MAX_EMBEDDING_INPUTS) throw invalid('input', `expected at most ${MAX_EMBEDDING_INPUTS} inputs`);
  list.forEach((item, i) => {
    if (typeof item === 'string' ? item.length === 0 : !isTokens(item))
      throw invalid(`input[${i}]`, 'expected a non-empty string or a non-empty array of token ids');
  });
  const format = body.encoding_format;
  if (!absent(format) && format !== 'float' && format !== 'base64') throw invalid('encoding_format', 'expected "float" or "base64"');
  optionalNumber(body.dimensions, 'dimensions', { integer: true, min: 1 });
  optionalString(body.user, 'user');
  return body as EmbeddingsRequest;
}

/** The inputs as a list (a single string or token array is one input). */
export function embeddingInputs(input: EmbeddingsRequest['input']): Array<string | number[]> {
  if (typeof input === 'string' || isTokens(input)) return [input];
  return input as Array<string | number[]>;
}

/**
 * An upper bound on the input tokens, without a tokenizer (as for chat requests, see
 * core/token-estimate.ts): a byte-level BPE tokenizer never makes more tokens than UTF-8 bytes; token
 * arrays count as they are.
 */
export function embeddingTokenUpperBound(input: EmbeddingsRequest['input']): number {
  let tokens = 0;
  for (const item of embeddingInputs(input)) tokens += (typeof item === 'string' ? Buffer.byteLength(item, 'utf8') : item.length) + PER_INPUT_OVERHEAD;
  return tokens;
}

/** Float32 little-endian as base64 (the OpenAI wire form for `encoding_format: base64`). */
export function vectorToBase64(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString('base64');
}

export function isEmbeddingsResponse(value: unknown): value is EmbeddingsResponse {
  return isObject(value) && Array.isArray(value.data) && isObject((value as Json).usage);
}

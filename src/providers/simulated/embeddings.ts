import { type EmbeddingsRequest, type EmbeddingsResponse, embeddingInputs, vectorToBase64 } from '../../core/wire/embeddings.ts';
import { hash32, mulberry32 } from './random.ts';
import { textTokens } from './tokens.ts';

/** Dimensions when the request names none; the sim's vectors are small, real ones are 256–3072. */
export const SIM_EMBEDDING_DIMENSIONS = 64;
export const SIM_MAX_EMBEDDING_DIMENSIONS = 4096;

/**
 * A deterministic unit vector per (model, input): the same text always maps to the same vector, so a
 * retrieval test can compare them; different texts almost never collide. Token arrays are hashed by
 * their ids.
 */
export function simVector(model: string, input: string | number[], dimensions: number, seed: number): number[] {
  const text = typeof input === 'string' ? input : `tokens:${input.join(',')}`;
  const rand = mulberry32(hash32(`${model}\u0000${text}`, seed));
  const vector = Array.from({ length: dimensions }, () => rand() * 2 - 1);
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

/** Tokens the sim counts for an embeddings request: the text's tokens (as for chat), or the ids given. */
export function embeddingTokens(input: EmbeddingsRequest['input']): number {
  let total = 0;
  for (const item of embeddingInputs(input)) total += typeof item === 'string' ? Math.max(1, textTokens(item)) : item.length;
  return total;
}

export function simEmbeddings(req: EmbeddingsRequest, seed: number): EmbeddingsResponse {
  const dimensions = req.dimensions ?? SIM_EMBEDDING_DIMENSIONS;
  const base64 = req.encoding_format === 'base64';
  const data = embeddingInputs(req.input).map((input, index) => {
    const vector = simVector(req.model, input, dimensions, seed);
    return { object: 'embedding' as const, index, embedding: base64 ? vectorToBase64(vector) : vector };
  });
  const tokens = embeddingTokens(req.input);
  return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

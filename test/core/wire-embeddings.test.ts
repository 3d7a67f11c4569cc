import { describe, expect, it } from 'vitest';
import {
  embeddingInputs,
  embeddingTokenUpperBound,
  isEmbeddingsResponse,
  MAX_EMBEDDING_INPUTS,
  parseEmbeddingsRequest,
  vectorToBase64,
} from '../../src/core/wire/embeddings.ts';

/**
 * The OpenAI embeddings request and response shapes (core/wire/embeddings.ts): what a request may
 * carry as input (text, texts, token arrays) and the exact refusal for everything else, the input list,
 * the token upper bound, the base64 float32 encoding and the response shape check.
 */

const any = () => true;

function invalidError(param: string, message: string) {
  return expect.objectContaining({ name: 'GuardError', code: 'request.invalid', message: `${param}: ${message}`, details: { param } });
}

const parse = (extra: Record<string, unknown>) => parseEmbeddingsRequest({ model: 'e', input: 'hello', ...extra }, any);
const refuse = (extra: Record<string, unknown>) => () => parse(extra);
const ITEM = 'expected a non-empty string or a non-empty array of token ids';

describe('parseEmbeddingsRequest', () => {
  it('returns the body itself, untouched, extra fields included', () => {
    const body = { model: 'e', input: 'hello', encoding_format: 'base64', dimensions: 8, user: 'u', extra: { x: 1 } };
    const parsed = parseEmbeddingsRequest(body, any);
    expect(parsed).toBe(body);
    expect(parsed).toStrictEqual({ model: 'e', input: 'hello', encoding_format: 'base64', dimensions: 8, user: 'u', extra: { x: 1 } });
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => parseEmbeddingsRequest(null, any)).toThrow(invalidError('body', 'the request body must be a JSON object, got null'));
    expect(() => parseEmbeddingsRequest(['x'], any)).toThrow(invalidError('body', 'the request body must be a JSON object, got an array'));
    expect(() => parseEmbeddingsRequest(3, any)).toThrow(invalidError('body', 'the request body must be a JSON object, got a number'));
  });

  it('asks the configuration about the model and refuses an unknown or missing one', () => {
    const asked: string[] = [];
    parseEmbeddingsRequest({ model: 'emb', input: 'x' }, (name) => {
      asked.push(name);
      return true;
    });
    expect(asked).toEqual(['emb']);
    expect(() => parseEmbeddingsRequest({ model: 'emb', input: 'x' }, () => false)).toThrow(
      expect.objectContaining({ code: 'request.invalid', message: 'unknown model "emb"', details: { param: 'model' } }),
    );
    expect(() => parseEmbeddingsRequest({ input: 'x' }, any)).toThrow(invalidError('model', 'expected a model name, got nothing'));
  });

  it('checks the model before the input', () => {
    expect(() => parseEmbeddingsRequest({ model: '', input: 5 }, any)).toThrow(invalidError('model', 'expected a model name, got a string'));
  });

  it('accepts a text, a list of texts, one token array or a list of token arrays (token id 0 included)', () => {
    for (const input of ['a', ['a', 'b'], [0, 1, 2], [[0], [5, 6]], [7], [[1]]]) {
      const body = { model: 'e', input };
      expect(parseEmbeddingsRequest(body, any)).toBe(body);
    }
  });

  it('refuses input that is not a string or an array, naming what it got', () => {
    const message = 'expected a string, an array of strings or token arrays, got';
    expect(refuse({ input: undefined })).toThrow(invalidError('input', `${message} nothing`));
    expect(refuse({ input: 5 })).toThrow(invalidError('input', `${message} a number`));
    expect(refuse({ input: { text: 'a' } })).toThrow(invalidError('input', `${message} an object`));
    expect(refuse({ input: null })).toThrow(invalidError('input', `${message} null`));
  });

  it('refuses an empty input list', () => {
    expect(refuse({ input: [] })).toThrow(invalidError('input', 'expected at least one input'));
  });

  it('accepts up to 2048 inputs and refuses more', () => {
    expect(MAX_EMBEDDING_INPUTS).toBe(2048);
    expect(parse({ input: Array.from({ length: 2048 }, () => 'a') }).input).toHaveLength(2048);
    expect(parse({ input: Array.from({ length: 2048 }, () => [1]) }).input).toHaveLength(2048);
    expect(refuse({ input: Array.from({ length: 2049 }, () => 'a') })).toThrow(invalidError('input', 'expected at most 2048 inputs'));
    // One token array is one input, however long.
    expect(parse({ input: Array.from({ length: 3000 }, () => 1) }).input).toHaveLength(3000);
  });

  it('refuses an empty text, an empty token array or a bad item, naming its index', () => {
    expect(refuse({ input: '' })).toThrow(invalidError('input[0]', ITEM));
    expect(refuse({ input: ['a', ''] })).toThrow(invalidError('input[1]', ITEM));
    expect(refuse({ input: [[1], []] })).toThrow(invalidError('input[1]', ITEM));
    expect(refuse({ input: [[]] })).toThrow(invalidError('input[0]', ITEM));
    expect(refuse({ input: ['a', 1] })).toThrow(invalidError('input[1]', ITEM));
    expect(refuse({ input: ['a', null] })).toThrow(invalidError('input[1]', ITEM));
    expect(refuse({ input: [['a']] })).toThrow(invalidError('input[0]', ITEM));
  });

  it('refuses token ids that are negative or not integers', () => {
    expect(refuse({ input: [1.5] })).toThrow(invalidError('input[0]', ITEM));
    expect(refuse({ input: [1, -1] })).toThrow(invalidError('input[0]', ITEM));
    expect(refuse({ input: [[2], [3, -1]] })).toThrow(invalidError('input[1]', ITEM));
    expect(refuse({ input: [[0.5]] })).toThrow(invalidError('input[0]', ITEM));
    expect(refuse({ input: [['1']] })).toThrow(invalidError('input[0]', ITEM));
  });

  it('encoding_format: float, base64 or absent', () => {
    expect(parse({ encoding_format: 'float' }).encoding_format).toBe('float');
    expect(parse({ encoding_format: 'base64' }).encoding_format).toBe('base64');
    expect(parse({ encoding_format: null }).encoding_format).toBeNull();
    expect(refuse({ encoding_format: 'hex' })).toThrow(invalidError('encoding_format', 'expected "float" or "base64"'));
    expect(refuse({ encoding_format: '' })).toThrow(invalidError('encoding_format', 'expected "float" or "base64"'));
  });

  it('dimensions: a positive integer when given', () => {
    expect(parse({ dimensions: 1 }).dimensions).toBe(1);
    expect(parse({ dimensions: null }).dimensions).toBeNull();
    expect(refuse({ dimensions: 0 })).toThrow(invalidError('dimensions', 'expected a number >= 1'));
    expect(refuse({ dimensions: 2.5 })).toThrow(invalidError('dimensions', 'expected an integer'));
    expect(refuse({ dimensions: '8' })).toThrow(invalidError('dimensions', 'expected a number, got a string'));
  });

  it('user: a string when given', () => {
    expect(parse({ user: '' }).user).toBe('');
    expect(refuse({ user: 5 })).toThrow(invalidError('user', 'expected a string, got a number'));
  });
});

describe('embeddingInputs', () => {
  it('a single text or token array is one input', () => {
    expect(embeddingInputs('a')).toStrictEqual(['a']);
    expect(embeddingInputs([1, 2])).toStrictEqual([[1, 2]]);
    expect(embeddingInputs([0])).toStrictEqual([[0]]);
  });

  it('a list of texts or token arrays is the list itself', () => {
    const texts = ['a', 'b'];
    expect(embeddingInputs(texts)).toBe(texts);
    const arrays = [[1], [2, 3]];
    expect(embeddingInputs(arrays)).toBe(arrays);
  });
});

describe('embeddingTokenUpperBound', () => {
  it('counts a text as its UTF-8 bytes plus 4 per input', () => {
    expect(embeddingTokenUpperBound('abc')).toBe(7);
    expect(embeddingTokenUpperBound('é')).toBe(6);
    expect(embeddingTokenUpperBound('日本')).toBe(10);
    expect(embeddingTokenUpperBound('')).toBe(4);
  });

  it('counts a token array as its length plus 4 per input', () => {
    expect(embeddingTokenUpperBound([1, 2, 3])).toBe(7);
    expect(embeddingTokenUpperBound([[1], [2, 3]])).toBe(11);
  });

  it('sums over a list of inputs', () => {
    expect(embeddingTokenUpperBound(['a', 'bb'])).toBe(11);
    expect(embeddingTokenUpperBound(['a', 'bb', 'ccc'])).toBe(18);
  });
});

describe('vectorToBase64', () => {
  it('encodes little-endian float32 values in order', () => {
    expect(vectorToBase64([])).toBe('');
    expect(vectorToBase64([1])).toBe('AACAPw==');
    expect(vectorToBase64([1, -2.5])).toBe('AACAPwAAIMA=');
    expect(vectorToBase64([0.1])).toBe('zczMPQ==');
  });

  it('round-trips through float32 decoding', () => {
    const buffer = Buffer.from(vectorToBase64([0.5, -1, 3]), 'base64');
    expect(buffer.length).toBe(12);
    expect([buffer.readFloatLE(0), buffer.readFloatLE(4), buffer.readFloatLE(8)]).toEqual([0.5, -1, 3]);
  });
});

describe('isEmbeddingsResponse', () => {
  it('is an object with a data list and a usage object', () => {
    expect(isEmbeddingsResponse({ object: 'list', data: [], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } })).toBe(true);
    expect(isEmbeddingsResponse({ data: [], usage: {} })).toBe(true);
  });

  it('is not without data, with data not a list, without usage or with usage not an object', () => {
    expect(isEmbeddingsResponse({ usage: {} })).toBe(false);
    expect(isEmbeddingsResponse({ data: {}, usage: {} })).toBe(false);
    expect(isEmbeddingsResponse({ data: [] })).toBe(false);
    expect(isEmbeddingsResponse({ data: [], usage: [] })).toBe(false);
    expect(isEmbeddingsResponse({ data: [], usage: null })).toBe(false);
    expect(isEmbeddingsResponse(null)).toBe(false);
    expect(isEmbeddingsResponse([])).toBe(false);
    expect(isEmbeddingsResponse('x')).toBe(false);
  });
});

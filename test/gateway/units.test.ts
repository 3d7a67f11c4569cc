import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../src/http/auth.ts';
import { errorHeaders, toFailure } from '../../src/http/error-response.ts';
import { formatUsd } from '../../src/gateway/run-headers.ts';
import { validateChatRequest } from '../../src/gateway/validate-chat.ts';
import { guardError } from '../../src/core/errors.ts';

describe('gateway helpers', () => {
  it('formats USD as plain decimals, never with an exponent', () => {
    expect(formatUsd(0)).toBe('0');
    expect(formatUsd(1.2e-7)).toBe('0.00000012');
    expect(formatUsd(0.5)).toBe('0.5');
    expect(formatUsd(12)).toBe('12');
    expect(formatUsd(0.000000001)).toBe('0.000000001');
  });

  it('reads a bearer token', () => {
    expect(bearerToken('Bearer sk-abc-123')).toBe('sk-abc-123');
    expect(bearerToken('bearer   sk-abc-123 ')).toBe('sk-abc-123');
    expect(bearerToken('Basic sk-abc-123')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('retry headers: x-should-retry from the catalogue, retry-after rounded up to seconds', () => {
    expect(errorHeaders(guardError('limit.steps', 'x'))).toEqual({ 'x-fmguard-code': 'limit.steps', 'x-should-retry': 'false' });
    expect(errorHeaders(guardError('rate.limited', 'x', { retryAfterMs: 1001 }))).toEqual({
      'x-fmguard-code': 'rate.limited',
      'x-should-retry': 'true',
      'retry-after': '2',
      'retry-after-ms': '1001',
    });
  });

  it('anything that is not a GuardError becomes a 500 without its message', () => {
    const failure = toFailure(new Error('ENOENT /secret/path'));
    expect(failure).toMatchObject({ status: 500, internal: true });
    expect(failure.error.message).not.toContain('secret');
  });

  it('accepts a full, valid request as is (unknown fields pass through)', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'data:' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      tool_choice: 'auto',
      max_completion_tokens: 100,
      temperature: 0.2,
      stop: ['\n'],
      stream: true,
      stream_options: { include_usage: true },
      response_format: { type: 'json_object' },
      reasoning_effort: 'low',
    };
    expect(validateChatRequest(body, () => true)).toBe(body);
    expect(() => validateChatRequest(body, () => false)).toThrow(/unknown model "m"/);
  });
});

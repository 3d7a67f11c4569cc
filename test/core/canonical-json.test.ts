import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fastHash, fingerprint, sha256Hex } from '../../src/core/canonical-json.ts';

describe('canonicalJson', () => {
  it('writes primitives as JSON does', () => {
    expect(canonicalJson('abc')).toBe('"abc"');
    expect(canonicalJson('')).toBe('""');
    expect(canonicalJson('a"b\n')).toBe('"a\\"b\\n"');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(-1.5)).toBe('-1.5');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(null)).toBe('null');
  });

  it('writes values JSON has no text for as null', () => {
    expect(canonicalJson(Number.NaN)).toBe('null');
    expect(canonicalJson(Number.POSITIVE_INFINITY)).toBe('null');
    expect(canonicalJson(Number.NEGATIVE_INFINITY)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(() => 1)).toBe('null');
    expect(canonicalJson(Symbol('s'))).toBe('null');
    expect(canonicalJson([undefined, Number.NaN, 1])).toBe('[null,null,1]');
  });

  it('sorts object keys at every depth, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({ 'a"b': 1 })).toBe('{"a\\"b":1}');
  });

  it('leaves out undefined properties, as JSON does, so they fingerprint like absent ones', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ b: undefined })).toBe('{}');
    expect(canonicalJson({ a: null })).toBe('{"a":null}');
    expect(canonicalJson({ a: 0, b: false, c: '' })).toBe('{"a":0,"b":false,"c":""}');
    expect(fingerprint({ q: 'x', page: undefined })).toBe(fingerprint({ q: 'x' }));
  });
});

describe('fingerprint', () => {
  it('is the first 32 hex digits of the SHA-256 of the canonical JSON', () => {
    const full = createHash('sha256').update('{"a":[1,2],"b":1}').digest('hex');
    expect(full).toBe('94a786c3662bc7beeb598efa7d8cb58d7bea25d6c275ea9785a0230ff1f8c2ba');
    expect(sha256Hex('{"a":[1,2],"b":1}')).toBe(full);
    expect(fingerprint({ b: 1, a: [1, 2] })).toBe('94a786c3662bc7beeb598efa7d8cb58d');
    expect(fingerprint({ a: [1, 2], b: 1 })).toBe('94a786c3662bc7beeb598efa7d8cb58d');
    expect(fingerprint({ a: [2, 1], b: 1 })).not.toBe('94a786c3662bc7beeb598efa7d8cb58d');
  });
});

describe('fastHash', () => {
  it('is 16 hex digits: FNV-1a 32 (its published vectors) then the second lane, each zero-padded to 8', () => {
    // FNV-1a 32-bit test vectors: "" → 811c9dc5, "a" → e40c292c, "foobar" → bf9cf968.
    expect(fastHash('')).toBe('811c9dc501000193');
    expect(fastHash('a')).toBe('e40c292c8f2a4f6f');
    expect(fastHash('foobar')).toBe('bf9cf9680e34dfb5');
    expect(fastHash('hello world')).toBe('d58b3fa7170b5f3f');
  });

  it('keeps leading zeros of either lane', () => {
    expect(fastHash('k120')).toBe('0493fd3bc7679bcc');
    expect(fastHash('k15')).toBe('9cd2001c00d0b535');
    for (const text of ['k120', 'k15', '', 'x']) expect(fastHash(text)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('tells apart texts that differ in one character or in length', () => {
    expect(fastHash('abc')).not.toBe(fastHash('abd'));
    expect(fastHash('abc')).not.toBe(fastHash('abc '));
    expect(fastHash('ab')).not.toBe(fastHash('ba'));
  });
});
